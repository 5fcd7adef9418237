// Fine-tuning: a small CNN learns MNIST's digits 0–4; a new model keeps its two convolutions, frozen, loads
// their trained weights by name, and trains a new head on digits 5–9 (its classes 0–4 are the digits 5–9).
// Run: npx tsx docs/examples/finetune.ts   (EXAMPLE_BUDGET=small trains on fewer images, for a quick check)
import {
  Model, freezeLayers, loadMnist, openNodeDevice, parseLayers, pickDataset, MNIST_MEAN, MNIST_STD, type Dataset,
} from 'webgpu-mlp/node';

const small = process.env.EXAMPLE_BUDGET === 'small';
const limit = small ? 3_000 : Infinity;

/** The images of digits first..first+4, relabelled 0–4, at most `limit` of them. */
function digits(d: Dataset, first: number, name: string): Dataset {
  const picked: number[] = [];
  for (let i = 0; i < d.count && picked.length < limit; i++) if (d.labels[i] >= first && d.labels[i] < first + 5) picked.push(i);
  const subset = pickDataset(d, picked, name);
  for (let i = 0; i < subset.count; i++) subset.labels[i] -= first;
  return subset;
}

const gpu = await openNodeDevice();
const mnist = loadMnist();
const pixels = { pixelMean: MNIST_MEAN, pixelStd: MNIST_STD };
const fit = { batchSize: 64, optimizer: { kind: 'adam', lr: 2e-3 } } as const;
const convolutions = 'conv2d:8:k=5,relu,maxpool2d:2,conv2d:16:k=5,relu,maxpool2d:2,flatten';

// 1. A CNN on digits 0–4.
const base = new Model(gpu.device, { layers: parseLayers(`${convolutions},linear:5`), seed: 1, ...pixels });
await base.fit(digits(mnist.train, 0, 'train 0–4'), { ...fit, epochs: small ? 1 : 2 });
console.log(`digits 0–4: test accuracy ${(await base.evaluate(digits(mnist.test, 0, 'test 0–4'))).accuracy.toFixed(4)}`);

// 2. The same convolutions, frozen (layers 0 and 3), and a new head for digits 5–9.
const layers = freezeLayers(parseLayers(`${convolutions},linear:64,relu,linear:5`), [0, 3]);
const model = new Model(gpu.device, { layers, seed: 2, ...pixels });
const report = await model.loadWeights(base, { strict: false });
console.log(`loaded: ${report.loaded.join(', ')}`);
console.log(`skipped: ${report.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}`);
console.log(`new: ${report.missing.join(', ')}`);
console.log(model.summary());

// 3. Train the head on digits 5–9; the frozen weights must come out byte for byte as they went in.
const frozen = model.architecture.layers.filter((l) => !l.trainable).flatMap((l) => l.parameters.map((p) => p.name));
const weightsOf = async () => (await model.exportState()).tensors;
const before = await weightsOf();
await model.fit(digits(mnist.train, 5, 'train 5–9'), { ...fit, epochs: small ? 1 : 2 });
const after = await weightsOf();
const sameBytes = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const unchanged = frozen.every((name) => sameBytes(before.get(name)!.data, after.get(name)!.data));
const { accuracy } = await model.evaluate(digits(mnist.test, 5, 'test 5–9'));
console.log(`frozen weights unchanged: ${unchanged}`);
console.log(`test accuracy: ${accuracy.toFixed(4)}`);
base.dispose();
model.dispose();
gpu.destroy();
