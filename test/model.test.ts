// The whole model against the float64 reference: every weight and bias gradient, then the loss and accuracy.
import { describe, expect, it } from 'vitest';
import { Model, modelInternals } from '../src/engine/model.js';
import type { OptimizerConfig } from '../src/engine/optimizer.js';
import { GPU_VARIANTS } from '../src/gpu/variants.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { openTestDevice, withErrorScope } from './helpers/gpu.js';
import { expectGradientsClose, syntheticData, mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();

describe('whole-model gradients against the float64 reference', () => {
  it.each([
    { sizes: [784, 500, 10], rows: 16 },
    { sizes: [29, 13, 7], rows: 11 },
    { sizes: [20, 12, 9, 5], rows: 37 },
  ])('sizes $sizes, $rows rows', async ({ sizes, rows }) => {
    await withErrorScope(gpu.device, async () => {
      const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 3 });
      const data = syntheticData(rows, sizes[0], sizes[sizes.length - 1], 7);
      const params = await model.getParams();
      const got = await model.gradients(data);
      const want = mlpForwardBackward(params, modelInternals(model).parameters.layout, sizes, data.images, data.labels, rows);
      expectGradientsClose(got, want.grads, modelInternals(model).parameters.layout.tensors);
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
      const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 3, variants: GPU_VARIANTS });
      const plan = modelInternals(model).plan('train', rows);
      const labels = [...plan.forward, ...plan.backward].map((d) => d.label).join('\n');
      if (rows === 128) for (const family of ['tiled', 'reduceK']) expect(labels).toContain(`-${family}-`);
      const data = syntheticData(rows, sizes[0], sizes[2], 9);
      const want = mlpForwardBackward(await model.getParams(), modelInternals(model).parameters.layout, sizes, data.images, data.labels, rows);
      expectGradientsClose(await model.gradients(data), want.grads, modelInternals(model).parameters.layout.tensors);
      model.dispose();
    });
  });

  it('standardized pixels (mean/std) reach the same gradients as the reference', async () => {
    const sizes = [28, 8, 4];
    const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 5, pixelMean: 0.1307, pixelStd: 0.3081 });
    const data = syntheticData(9, 28, 4, 11);
    const want = mlpForwardBackward(await model.getParams(), modelInternals(model).parameters.layout, sizes, data.images, data.labels, 9, 1 / 0.3081, -0.1307 / 0.3081);
    expectGradientsClose(await model.gradients(data), want.grads, modelInternals(model).parameters.layout.tensors);
    model.dispose();
  });
});

describe('predict', () => {
  it('returns softmax probabilities that match the reference logits', async () => {
    const sizes = [29, 13, 7];
    const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 1, evaluationBatch: 4 });
    const data = syntheticData(10, 29, 7, 5);
    const probs = await model.predict(data.images, { count: 10 });
    const ref = mlpForwardBackward(await model.getParams(), modelInternals(model).parameters.layout, sizes, data.images, data.labels, 10);
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
      const model = new Model(gpu.device, { ...mlpOptions([29, 13, 7]), seed: 4 });
      const progress: [number, number][] = [];
      let steps = 0;
      let asks = 0;
      const history = await model.fit(data, {
        epochs: 2, batchSize: 16, optimizer, progressEvery: 4, stepsPerSubmit, gpuResidentData,
        onStep: (s) => { steps++; if (s.loss !== undefined) progress.push([s.epoch, s.step]); },
        // Asked once before each step: the (stopAt+1)-th ask stops fit after exactly stopAt steps.
        shouldStop: () => ++asks > stopAt,
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
    expect(one.progress).toEqual([[1, 1], [1, 4], [1, 8], [1, 10], [2, 1], [2, 4]]);
  });

  it('stops before the next step when its AbortSignal is aborted, marks the epoch partial and does not count it', async () => {
    const data = syntheticData(150, 29, 7, 11);
    const model = new Model(gpu.device, { ...mlpOptions([29, 13, 7]), seed: 4 });
    const controller = new AbortController();
    let steps = 0;
    const history = await model.fit(data, {
      epochs: 3, batchSize: 16, optimizer: { kind: 'adam', lr: 1e-3 }, signal: controller.signal,
      onStep: () => ++steps === 12 && controller.abort(),
    });
    expect(steps).toBe(12);
    expect(model.step).toBe(12);
    expect(history.map((h) => h.partial ?? false)).toEqual([false, true]);
    expect(model.epochs).toBe(1);
    // The partial epoch's totals are those of its two steps.
    expect(history[1].trainLoss).toBeGreaterThan(0);
    // Already aborted: no step, no epoch.
    expect(await model.fit(data, { epochs: 1, batchSize: 16, optimizer: { kind: 'adam', lr: 1e-3 }, signal: controller.signal })).toEqual([]);
    expect(model.step).toBe(12);
    await expect(model.evaluate(data, { signal: controller.signal })).rejects.toThrow(/abort/i);
    await expect(model.predict(data.images, { signal: controller.signal })).rejects.toThrow(/abort/i);
    model.dispose();
  });

  it('keeps the optimizer state across fits with a new learning rate, unless asked to reset it', async () => {
    const data = syntheticData(150, 29, 7, 11);
    const fresh = () => new Model(gpu.device, { ...mlpOptions([29, 13, 7]), seed: 4 });
    const fit = { epochs: 1, batchSize: 16, progressEvery: 0 };
    // Two fits, the second at half the learning rate ...
    const twoFits = fresh();
    await twoFits.fit(data, { ...fit, optimizer: { kind: 'adam', lr: 1e-2 } });
    await twoFits.fit(data, { ...fit, optimizer: { kind: 'adam', lr: 5e-3 } });
    // ... are one fit of two epochs whose step schedule halves it after the first, bit for bit.
    const oneFit = fresh();
    await oneFit.fit(data, { ...fit, epochs: 2, optimizer: { kind: 'adam', lr: 1e-2 }, schedule: { kind: 'step', everyEpochs: 1, gamma: 0.5 } });
    expect(twoFits.step).toBe(20);
    expect(twoFits.recipe!.optimizer.lr).toBe(5e-3);
    expect(Buffer.from((await twoFits.getParams()).buffer).equals(Buffer.from((await oneFit.getParams()).buffer))).toBe(true);
    // reset: true starts Adam afresh (step 1 again), which lands elsewhere.
    const reset = fresh();
    await reset.fit(data, { ...fit, optimizer: { kind: 'adam', lr: 1e-2 } });
    await reset.fit(data, { ...fit, optimizer: { kind: 'adam', lr: 5e-3, reset: true } });
    expect(reset.step).toBe(10);
    expect(Buffer.from((await reset.getParams()).buffer).equals(Buffer.from((await oneFit.getParams()).buffer))).toBe(false);
    for (const m of [twoFits, oneFit, reset]) m.dispose();
  });
});
