// The whole model against the float64 reference: every weight and bias gradient, then the loss and accuracy.
import { describe, expect, it } from 'vitest';
import { Model } from '../src/engine/model.js';
import type { OptimizerConfig } from '../src/engine/optimizer.js';
import { GPU_VARIANTS } from '../src/engine/variants.js';
import { mlpForwardBackward } from '../src/reference/mlp.js';
import { openTestDevice, withErrorScope } from './helpers/gpu.js';
import { expectGradientsClose, syntheticData } from './helpers/model.js';

const gpu = await openTestDevice();

describe('whole-model gradients against the float64 reference', () => {
  it.each([
    { sizes: [784, 500, 10], rows: 16 },
    { sizes: [29, 13, 7], rows: 11 },
    { sizes: [20, 12, 9, 5], rows: 37 },
  ])('sizes $sizes, $rows rows', async ({ sizes, rows }) => {
    await withErrorScope(gpu.device, async () => {
      const model = new Model(gpu.device, { sizes, seed: 3 });
      const data = syntheticData(rows, sizes[0], sizes[sizes.length - 1], 7);
      const params = await model.getParams();
      const got = await model.gradients(data);
      const want = mlpForwardBackward(params, model.parameters.layout, sizes, data.images, data.labels, rows);
      expectGradientsClose(got, want.grads, model.parameters.layout.tensors);
      const evaluation = await model.evaluate(data);
      expect(Math.abs(evaluation.loss - want.loss)).toBeLessThan(1e-5 * Math.max(1, want.loss));
      expect(evaluation.accuracy).toBeCloseTo(want.correct / rows, 10);
      model.dispose();
    });
  });

  // The GPU defaults: at batch 128 the 784-500-10 step runs the variants measured on a GPU (workgroup tiles
  // with u8 input, K split across a workgroup, register tiles); at 20 rows the shape-class rules pick.
  it.each([128, 20])('with the GPU default variants, %i rows', async (rows) => {
    await withErrorScope(gpu.device, async () => {
      const sizes = [784, 500, 10];
      const model = new Model(gpu.device, { sizes, seed: 3, variants: GPU_VARIANTS });
      const plan = model.plan('train', rows);
      const labels = [...plan.forward, ...plan.backward].map((d) => d.label).join('\n');
      if (rows === 128) for (const family of ['tiled', 'reduceK']) expect(labels).toContain(`-${family}-`);
      const data = syntheticData(rows, sizes[0], sizes[2], 9);
      const want = mlpForwardBackward(await model.getParams(), model.parameters.layout, sizes, data.images, data.labels, rows);
      expectGradientsClose(await model.gradients(data), want.grads, model.parameters.layout.tensors);
      model.dispose();
    });
  });

  it('standardized pixels (mean/std) reach the same gradients as the reference', async () => {
    const sizes = [28, 8, 4];
    const model = new Model(gpu.device, { sizes, seed: 5, pixelMean: 0.1307, pixelStd: 0.3081 });
    const data = syntheticData(9, 28, 4, 11);
    const want = mlpForwardBackward(await model.getParams(), model.parameters.layout, sizes, data.images, data.labels, 9, 1 / 0.3081, -0.1307 / 0.3081);
    expectGradientsClose(await model.gradients(data), want.grads, model.parameters.layout.tensors);
    model.dispose();
  });
});

describe('predict', () => {
  it('returns softmax probabilities that match the reference logits', async () => {
    const sizes = [29, 13, 7];
    const model = new Model(gpu.device, { sizes, seed: 1, evaluationBatch: 4 });
    const data = syntheticData(10, 29, 7, 5);
    const probs = await model.predict(data.images, 10);
    const ref = mlpForwardBackward(await model.getParams(), model.parameters.layout, sizes, data.images, data.labels, 10);
    for (let r = 0; r < 10; r++) {
      const z = Array.from(ref.logits.subarray(r * 7, r * 7 + 7));
      const zMax = Math.max(...z);
      const e = z.map((v) => Math.exp(v - zMax));
      const sum = e.reduce((a, b) => a + b, 0);
      e.forEach((v, c) => expect(Math.abs(probs[r * 7 + c] - v / sum)).toBeLessThan(1e-5));
    }
    model.dispose();
  });
});

describe('batches gathered on the GPU, several steps per submission', () => {
  it.each([
    { kind: 'adam', lr: 1e-2 },
    { kind: 'sgd', lr: 1e-1, momentum: 0.9 },
  ] as OptimizerConfig[])('train to the same parameters bit for bit as host uploads one step at a time, with progress and stops on their exact steps (%o)', async (optimizer) => {
    const data = syntheticData(150, 29, 7, 11);
    const train = async (stepsPerSubmit: number, stopAt: number, gpuResidentData = true) => {
      // The software adapter's defaults upload from the host: ask for the GPU-resident path explicitly.
      const model = new Model(gpu.device, { sizes: [29, 13, 7], seed: 4 });
      const progress: [number, number][] = [];
      let steps = 0;
      const history = await model.fit(data, {
        epochs: 2, batchSize: 16, optimizer, progressEvery: 4, stepsPerSubmit, gpuResidentData,
        onStep: (s) => { steps++; if (s.loss !== undefined) progress.push([s.epoch, s.step]); },
        shouldStop: () => steps + 1 >= stopAt,
      });
      const params = await model.getParams();
      model.dispose();
      return { params, progress, history: history.map((h) => [h.trainLoss, h.trainAccuracy]), steps };
    };
    // Batches uploaded from the host, one step per submission: the reference behaviour.
    const one = await train(1, 15, false); // stops inside the second epoch (10 steps per epoch)
    for (const [stepsPerSubmit, what] of [[1, 'gathered on the GPU, one'], [3, 'three'], [8, 'eight']] as const) {
      const many = await train(stepsPerSubmit, 15);
      expect(many.steps, what).toBe(15);
      expect(many.progress, what).toEqual(one.progress);
      expect(many.history, what).toEqual(one.history);
      expect(Buffer.from(many.params.buffer).equals(Buffer.from(one.params.buffer)), `${what} steps per submission: parameters differ`).toBe(true);
    }
    expect(one.progress).toEqual([[1, 4], [1, 8], [1, 10], [2, 4], [2, 5]]);
  });
});
