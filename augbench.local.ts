import { packBatchUniform, BATCH_UNIFORM_BYTES } from './shaders/batchUniform.js';
import { UniformWords } from './shaders/bindings.js';
import { augmentDispatches, elasticFieldBytes } from './src/augment/gpu.js';
import { parseAugmentation } from './src/augment/spec.js';
import { storageBuffer, uniformBuffer } from './src/gpu/buffers.js';
import { PipelineCache, encodeDispatches } from './src/gpu/dispatch.js';
import { loadMnist } from './src/node/mnistFiles.js';
import { openNodeDevice } from './src/node/gpu.js';

const gpu = await openNodeDevice('auto', { disableRobustness: process.env.NOROBUST === '1' });
const device = gpu.device;
const cache = new PipelineCache(device);
const mnist = loadMnist();
const capacity = 128, F = 784;
const input = storageBuffer(device, capacity * F, 'pixels');
device.queue.writeBuffer(input, 0, Uint8Array.from(mnist.train.images.subarray(0, capacity * F)));
const output = storageBuffer(device, capacity * F * 4, 'out');
const batch = uniformBuffer(device, BATCH_UNIFORM_BYTES, 'batch');
device.queue.writeBuffer(batch, 0, packBatchUniform(new UniformWords(BATCH_UNIFORM_BYTES), { rows: capacity, seed: 1, step: 2 }));
const fields = [0, 1].map(() => storageBuffer(device, elasticFieldBytes(capacity, [1, 28, 28]), 'f'));
const buffers = { input: { buffer: input }, output: { buffer: output }, batch: { buffer: batch }, elastic: { blurredRows: { buffer: fields[0] }, displacement: { buffer: fields[1] } } };
const a = parseAugmentation(process.argv[2] ?? 'rotate=8,scale=0.08,elastic=34:5')!;
const ds = augmentDispatches(cache, buffers, capacity, [1, 28, 28], a, { pixelScale: 1, pixelShift: 0 }, 'u8');
const reps = 20;
async function time(list: typeof ds): Promise<number> {
  const enc = device.createCommandEncoder();
  for (let r = 0; r < reps; r++) { const p = enc.beginComputePass(); encodeDispatches(p, list); p.end(); }
  const t = performance.now();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  return (performance.now() - t) / reps;
}
const rows: string[] = [];
for (const [name, list] of [...ds.map((d) => [d.label, [d]] as const), ['all', ds] as const]) {
  await time(list as typeof ds);
  const ts: number[] = [];
  for (let i = 0; i < 15; i++) ts.push(await time(list as typeof ds));
  ts.sort((x, y) => x - y);
  rows.push(`${name.padEnd(40)} ${ts[7].toFixed(2)} ms (min ${ts[0].toFixed(2)})`);
}
console.log(rows.join('\n'));
process.exit(0);
