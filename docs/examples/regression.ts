// Regression with the 'mse' loss: a smooth function of four inputs plus a little noise, learned by a small MLP
// from 6,000 examples and scored by R² on 2,000 it never saw.
//   y = sin(π·x₀)·cos(x₁) + 0.5·x₂² − 0.3·x₃ + noise (σ 0.05), each x uniform in [−1, 1)
// Run: npx tsx docs/examples/regression.ts   (EXAMPLE_BUDGET=small: fewer examples and epochs, for a quick check)
import { Model, openNodeDevice, parseLayers, type FloatDataset } from 'webgpu-mlp/node';

const small = process.env.EXAMPLE_BUDGET === 'small';
const FEATURES = 4;

/** A deterministic generator (mulberry32): the same data on every run. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `count` rows of inputs and their noisy targets: a FloatDataset whose `targets` are one value per row. */
function makeSet(name: string, count: number, seed: number): FloatDataset {
  const random = generator(seed);
  const images = new Float32Array(count * FEATURES);
  const values = new Float32Array(count);
  for (let r = 0; r < count; r++) {
    const x = Array.from({ length: FEATURES }, () => 2 * random() - 1);
    images.set(x, r * FEATURES);
    // Box–Muller for the Gaussian noise.
    const noise = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    values[r] = Math.sin(Math.PI * x[0]) * Math.cos(x[1]) + 0.5 * x[2] ** 2 - 0.3 * x[3] + 0.05 * noise;
  }
  return { name, images, labels: new Uint8Array(0), targets: { values, width: 1 }, count, features: FEATURES };
}

const train = makeSet('train', small ? 2_000 : 6_000, 1);
const test = makeSet('test', small ? 500 : 2_000, 2);

const gpu = await openNodeDevice();
const model = new Model(gpu.device, { layers: parseLayers('linear:64,relu,linear:64,relu,linear:1'), inputs: FEATURES, input: 'f32', loss: 'mse', seed: 7 });
const epochs = small ? 15 : 40;
await model.fit(train, {
  epochs, batchSize: 64, optimizer: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'cosine' },
  onEpoch: (e) => {
    if (e.epoch % 5 === 0) console.log(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, mae ${e.trainMeanAbsoluteError!.toFixed(4)}`);
  },
});
const result = await model.evaluate(test);
const [first] = await model.predict(test.images.subarray(0, FEATURES));
console.log(`first test row: predicted ${first.toFixed(3)}, target ${test.targets!.values[0].toFixed(3)}`);
console.log(`test mse: ${result.loss.toFixed(5)}, mae: ${result.meanAbsoluteError!.toFixed(4)}`);
model.dispose();
gpu.destroy();
console.log(`test r2: ${result.r2!.toFixed(4)}`);
