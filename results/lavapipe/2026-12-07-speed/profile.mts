// The step's kernels, old lavapipe defaults (as at 416a542) against the new ones, alternating rounds, each kernel
// timed alone (the bench's stepBreakdown, GPU timestamps); medians over the rounds, aligned by position in the step.
import { OLD } from './old.js';
// Engine modules from ROOT (default: this checkout), loaded at run time: any checkout can be measured.
const root = (await import('node:path')).resolve(process.env.ROOT ?? process.cwd());
const { openNodeDevice } = await import(`${root}/src/node/gpu.ts`);
const { stepBreakdown } = await import(`${root}/src/bench/step.ts`);
const { Model } = await import(`${root}/src/engine/model.ts`);
const { architectureOf } = await import(`${root}/src/engine/mlp.ts`);
const { parseLayers } = await import(`${root}/src/layers/index.ts`);
const { LAVAPIPE_VARIANTS } = await import(`${root}/src/gpu/variants.ts`);
const gpu = await openNodeDevice('lavapipe');
const rounds = Number(process.argv[2] ?? 3);
const which = process.argv[3] ?? 'mlp';
const cnn = 'conv2d:8:k=5,relu,maxpool2d:2,conv2d:16:k=5,relu,maxpool2d:2,flatten,linear:128,relu,dropout:0.25,linear:10';
const arch = which === 'mlp' ? architectureOf({ layers: parseLayers("linear:500,relu,linear:10") }) : architectureOf({ layers: parseLayers(cnn) });
const rows: Record<string, { labels: string[]; ms: number[][]; sum: number[]; whole: number[] }> = {};
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 ? ['new', 'old'] : ['old', 'new']) {
    const model = new Model(gpu.device, { layers: arch.layers.map((l) => l.spec), inputs: arch.inputShape, seed: 0, variants: name === 'new' ? LAVAPIPE_VARIANTS : OLD });
    const b = await stepBreakdown(model, 128);
    model.dispose();
    const row = (rows[name] ??= { labels: b.kernels.map((k) => k.label), ms: b.kernels.map(() => []), sum: [], whole: [] });
    b.kernels.forEach((k, i) => row.ms[i].push(k.timing.medianMs));
    row.sum.push(b.kernelSumMs);
    row.whole.push(b.dispatchesMs);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const { old, new: now } = rows;
console.log(`${which}: per kernel, median over ${rounds} alternating rounds (ms): old | new`);
old.labels.forEach((l, i) => console.log(`${l.padEnd(56)} ${med(old.ms[i]).toFixed(3).padStart(8)} | ${med(now.ms[i]).toFixed(3).padStart(8)}  ${now.labels[i] === l ? '' : now.labels[i]}`));
console.log(`${'sum of kernels'.padEnd(56)} ${med(old.sum).toFixed(2).padStart(8)} | ${med(now.sum).toFixed(2).padStart(8)}`);
console.log(`${'step dispatches back to back'.padEnd(56)} ${med(old.whole).toFixed(2).padStart(8)} | ${med(now.whole).toFixed(2).padStart(8)}`);
process.exit(0);
