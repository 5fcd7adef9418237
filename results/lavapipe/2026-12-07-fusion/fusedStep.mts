// The training step timed with the fusion pass on and off, side by side: for each model, both plans built once,
// then `rounds` rounds that time each (the step's dispatches back to back for about 200 ms, median of 5 trials),
// alternating which goes first. ROOT picks the checkout whose engine runs (default: this one).
//   npx tsx results/lavapipe/2026-12-07-fusion/fusedStep.mts [--adapter lavapipe] [--rounds 5] [--batch 128] [--models all|relu]
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';

const { values } = parseArgs({ options: { adapter: { type: 'string', default: 'lavapipe' }, rounds: { type: 'string', default: '5' }, batch: { type: 'string', default: '128' }, models: { type: 'string', default: 'all' } } });
const root = resolve(process.env.ROOT ?? process.cwd());
const { openNodeDevice } = await import(`${root}/src/node/gpu.ts`);
const { Model, modelInternals } = await import(`${root}/src/engine/model.ts`);
const { parseLayers } = await import(`${root}/src/layers/index.ts`);
const { timeDispatches, calibratedRepeats } = await import(`${root}/src/tuning/timing.ts`);

const MODELS: [string, number[]][] = [
  ['linear:500,relu,linear:10', [784]],
  ...(values.models === 'relu' ? [] : [
    ['linear:500,gelu,linear:10', [784]],
    ['conv2d:8:k=5,tanh,maxpool2d:2,conv2d:16:k=5,tanh,maxpool2d:2,flatten,linear:10', [1, 28, 28]],
  ] as [string, number[]][]),
];
const B = Number(values.batch);
const rounds = Number(values.rounds);
const gpu = await openNodeDevice(values.adapter);
console.log(`${gpu.driverNote}; batch ${B}, ${rounds} rounds, engine at ${root}`);

// Random pixels, so that no activation sees all zeros.
const pixels = new Uint8Array(B * 784);
for (let i = 0, s = 7; i < pixels.length; i++) pixels[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;

async function stepOf(layers: string, inputs: number[], fuse: boolean) {
  const model = new Model(gpu.device, { layers: parseLayers(layers), inputs, seed: 1, fuse });
  const internals = modelInternals(model);
  const plan = internals.plan('train', B);
  const optimizer = internals.useOptimizer({ kind: 'adam', lr: 1e-3 });
  gpu.device.queue.writeBuffer(plan.input, 0, pixels);
  plan.writeBatch({ rows: B });
  const step = [...plan.forward, ...plan.loss, ...plan.backward, ...optimizer.updates];
  await model.kernelsReady();
  return { step, repeats: await calibratedRepeats(gpu.device, step, 200) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [layers, inputs] of MODELS) {
  const plans = { fused: await stepOf(layers, inputs, true), unfused: await stepOf(layers, inputs, false) };
  const ms: Record<string, number[]> = { fused: [], unfused: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['fused', 'unfused'] as const : ['unfused', 'fused'] as const;
    for (const which of order) ms[which].push((await timeDispatches(gpu.device, plans[which].step, plans[which].repeats)).medianMs);
  }
  console.log(`${layers}`);
  for (const which of ['fused', 'unfused'] as const) {
    console.log(`  ${which.padEnd(8)} ${String(plans[which].step.length).padStart(3)} dispatches  min ${Math.min(...ms[which]).toFixed(2)}  median ${median(ms[which]).toFixed(2)} ms/step  rounds ${ms[which].map((m) => m.toFixed(1)).join(' ')}`);
  }
  const wins = ms.fused.filter((m, r) => m < ms.unfused[r]).length;
  console.log(`  fused/unfused: min ${(Math.min(...ms.fused) / Math.min(...ms.unfused)).toFixed(3)}, median ${(median(ms.fused) / median(ms.unfused)).toFixed(3)}; fused faster in ${wins} of ${rounds} rounds`);
}
gpu.destroy();
