// With Dawn's robust buffer access turned off (--no-robustness), the kernels must still be exact: they clamp
// every load and guard every store themselves. Whole-model gradients and a training epoch against the reference.
import { describe, expect, it } from 'vitest';
import { sliceDataset } from '../src/data/dataset.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { openTestDevice, withErrorScope } from './helpers/gpu.js';
import { mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice({ disableRobustness: true });
const mnist = loadMnist();

describe('robust buffer access off', () => {
  it('says so in the driver note', () => {
    expect(gpu.driverNote).toMatch(/robust buffer access off/);
  });

  it.each([
    { sizes: [784, 500, 10], rows: 13 },
    { sizes: [29, 13, 7], rows: 11 },
  ])('gradients of sizes $sizes on $rows rows match the float64 reference', async ({ sizes, rows }) => {
    await withErrorScope(gpu.device, async () => {
      const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 9 });
      const F = sizes[0];
      const images = Uint8Array.from(mnist.train.images.subarray(0, rows * F));
      const labels = Uint8Array.from(mnist.train.labels.subarray(0, rows), (l) => l % sizes[sizes.length - 1]);
      const data = { name: 'batch', images, labels, count: rows, features: F };
      const want = mlpForwardBackward(await model.getParams(), modelInternals(model).parameters.layout, sizes, images, labels, rows);
      const got = await model.gradients(data);
      let worst = 0;
      for (let i = 0; i < want.grads.length; i++) {
        const ref = want.grads[i];
        worst = Math.max(worst, Math.abs(got[i] - ref) / (Math.abs(ref) < 1e-2 ? 1e-6 : 1e-4 * Math.abs(ref)));
      }
      expect(worst).toBeLessThanOrEqual(1);
      model.dispose();
    });
  });

  it('trains deterministically to finite weights (one epoch with a short last batch, run twice, bitwise equal)', async () => {
    const data = sliceDataset(mnist.train, 0, 300, 'train');
    const run = async () => {
      const model = new Model(gpu.device, { ...mlpOptions([784, 24, 10]), seed: 4 });
      await model.fit(data, { epochs: 1, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-3 }, progressEvery: 0 });
      const params = await model.getParams();
      model.dispose();
      return params;
    };
    const [a, b] = [await run(), await run()];
    expect(a).toEqual(b);
    expect(a.every(Number.isFinite)).toBe(true);
  });
});
