// The regression and multi-label losses ('mse', 'bce'): their kernels and whole-model gradients against the
// float64 reference on odd shapes, their metrics, what predict and predictClasses give, the data checks, and
// the loss carried through checkpoints and ONNX.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { BATCH_UNIFORM_BYTES, packBatchUniform } from '../shaders/batchUniform.js';
import { UniformWords } from '../shaders/bindings.js';
import type { TargetLoss } from '../shaders/targetLosses.js';
import type { FloatDataset } from '../src/data/dataset.js';
import { decodeSafetensors } from '../src/data/safetensors.js';
import { decodeModelState } from '../src/engine/checkpoint.js';
import { rSquared, totalSumOfSquares } from '../src/data/loss.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { BadInputError, MisuseError } from '../src/errors.js';
import { readFloats, storageBuffer, uniformBuffer } from '../src/gpu/buffers.js';
import { GPU_VARIANTS } from '../src/gpu/variants.js';
import * as ref from '../src/reference/ops.js';
import { expectClose, gpuArray, openTestDevice, randomArray, runDispatches, testOps, withErrorScope } from './helpers/gpu.js';
import { expectGradientsClose, mlpOptions, targetData } from './helpers/model.js';

const gpu = await openTestDevice();
const device = gpu.device;
const ops = testOps(device);

describe('the target loss kernels against float64', () => {
  it.each([
    ['meanSquaredError', 1, 1, 1], ['meanSquaredError', 67, 3, 29], ['meanSquaredError', 130, 1, 130],
    ['sigmoidCrossEntropy', 1, 1, 1], ['sigmoidCrossEntropy', 67, 5, 29], ['sigmoidCrossEntropy', 130, 17, 101],
  ] as [TargetLoss, number, number, number][])('%s: capacity %i, %i outputs, %i rows present; stats accumulate', async (loss, capacity, outputs, rows) => {
    await withErrorScope(device, async () => {
      // Large logits too (±30): the stable forms must not overflow.
      const logits = randomArray(capacity * outputs, 7).map((x, i) => (i % 11 === 0 ? 30 * x : 4 * x));
      const targets = loss === 'meanSquaredError' ? randomArray(capacity * outputs, 8).map((x) => 2 * x) : randomArray(capacity * outputs, 8).map((x) => (x + 1) / 2);
      const dLogits = storageBuffer(device, capacity * outputs * 4, 'dLogits');
      const stats = storageBuffer(device, capacity * 8, 'stats');
      const batch = uniformBuffer(device, BATCH_UNIFORM_BYTES, 'batch');
      device.queue.writeBuffer(batch, 0, packBatchUniform(new UniformWords(BATCH_UNIFORM_BYTES), { rows }));
      const b = (buffer: GPUBuffer) => ({ buffer });
      const dispatch = ops.targetLoss(loss, b(dLogits), b(stats), b(gpuArray(device, logits)), b(gpuArray(device, targets)), b(batch), capacity, outputs);
      await runDispatches(device, [dispatch, dispatch]); // twice: the stats must hold two steps' sums

      const wantGrad = new Float64Array(capacity * outputs);
      const wantLoss = new Float64Array(rows);
      const metric = ref[loss](wantGrad, wantLoss, logits, targets, rows, outputs);
      expectClose(await readFloats(device, dLogits, 0, capacity * outputs), wantGrad, 1e-7, 1e-4, 'dLogits');
      const got = await readFloats(device, stats, 0, capacity * 2);
      expectClose(got.filter((_, i) => i % 2 === 0), Array.from({ length: capacity }, (_, r) => (r < rows ? 2 * wantLoss[r] : 0)), 1e-5, 1e-5, 'loss sums');
      expect(got.filter((_, i) => i % 2 === 1).reduce((a, x) => a + x, 0)).toBeCloseTo(2 * metric, 3);
    });
  });
});

// The shapes of the training tests below, so that their kernels compile once.
describe('whole-model gradients against the float64 reference', () => {
  it.each([
    { loss: 'mse', sizes: [3, 13, 2], rows: 29 },
    { loss: 'mse', sizes: [3, 13, 1], rows: 29 },
    { loss: 'bce', sizes: [4, 19, 3], rows: 23 },
  ] as const)('$loss, $sizes, batch $rows', async ({ loss, sizes, rows }) => {
    await withErrorScope(device, async () => {
      const model = new Model(device, { ...mlpOptions([...sizes]), seed: 4, input: 'f32', loss });
      const data = targetData(rows, sizes[0], sizes.at(-1)!, loss, 11);
      const layout = modelInternals(model).parameters.layout;
      const want = mlpForwardBackward(await model.getParams(), layout, [...sizes], data.images, data.labels, rows, 1, 0, { loss, targets: data.targets!.values });
      expectGradientsClose(await model.gradients(data), want.grads, layout.tensors);
      const evaluation = await model.evaluate(data);
      expect(Math.abs(evaluation.loss - want.loss)).toBeLessThan(1e-5 * Math.max(1, want.loss));
      if (loss === 'mse') {
        expect(evaluation.meanAbsoluteError).toBeCloseTo(want.correct / rows, 4);
        expect(evaluation.accuracy).toBeNaN();
      } else {
        expect(evaluation.labelAccuracy).toBeCloseTo(want.correct / rows, 4);
        expect(evaluation.accuracy).toBe(evaluation.labelAccuracy);
      }
      model.dispose();
    });
  });
});

describe('training, metrics and predictions', () => {
  it("'mse' learns a linear map (R² near 1), uploaded and gathered on the GPU alike, and predicts its values", async () => {
    // 200 rows in batches of 29: a short last batch of 26.
    const [count, features] = [200, 3];
    const images = randomArray(count * features, 21);
    const values = new Float32Array(count * 2);
    for (let r = 0; r < count; r++) {
      const [a, b, c] = images.subarray(r * 3, r * 3 + 3);
      values[2 * r] = 2 * a - b + 0.5;
      values[2 * r + 1] = c - a;
    }
    const data: FloatDataset = { name: 'linear', images, labels: new Uint8Array(0), targets: { values, width: 2 }, count, features };
    const results: number[][] = [];
    for (const gpuResidentData of [false, true]) {
      const model = new Model(device, { ...mlpOptions([3, 13, 2]), input: 'f32', loss: 'mse', seed: 1 });
      const history = await model.fit(data, { epochs: 12, batchSize: 29, optimizer: { kind: 'adam', lr: 3e-2 }, gpuResidentData, validation: data });
      const last = history.at(-1)!;
      expect(last.trainMeanAbsoluteError).toBeGreaterThan(0);
      expect(last.trainR2).toBeGreaterThan(0.8);
      const evaluation = await model.evaluate(data);
      expect(evaluation.r2).toBeGreaterThan(0.95);
      expect(last.validation!.r2).toBeCloseTo(evaluation.r2!, 6);
      const predicted = await model.predict(images);
      // R² recomputed from predict's values agrees with evaluate's.
      let residual = 0;
      for (let i = 0; i < values.length; i++) residual += (predicted[i] - values[i]) ** 2;
      expect(residual / values.length).toBeCloseTo(evaluation.loss, 5);
      await expect(model.predictClasses(images)).rejects.toThrow(MisuseError);
      results.push(Array.from(predicted.subarray(0, 6)));
      model.dispose();
    }
    // The same shuffles and steps on both paths: the same weights.
    expect(results[0]).toEqual(results[1]);
  });

  it("'bce' gives per-label probabilities, thresholded labels and per-label accuracy", async () => {
    // 150 rows in batches of 23: a short last batch of 12.
    const [count, features] = [150, 4];
    const images = randomArray(count * features, 31);
    const values = new Float32Array(count * 3);
    for (let r = 0; r < count; r++) {
      const x = images.subarray(r * 4, r * 4 + 4);
      values.set([x[0] > 0 ? 1 : 0, x[1] + x[2] > 0 ? 1 : 0, x[3] > 0.5 ? 1 : 0], r * 3);
    }
    const data: FloatDataset = { name: 'labels', images, labels: new Uint8Array(0), targets: { values, width: 3 }, count, features };
    const model = new Model(device, { ...mlpOptions([4, 19, 3]), input: 'f32', loss: 'bce', seed: 2 });
    const history = await model.fit(data, { epochs: 15, batchSize: 23, optimizer: { kind: 'adam', lr: 3e-2 }, gpuResidentData: true });
    expect(history.at(-1)!.trainLabelAccuracy).toBeGreaterThan(0.85);
    const evaluation = await model.evaluate(data);
    expect(evaluation.labelAccuracy).toBeGreaterThan(0.9);
    const probabilities = await model.predict(images);
    expect(probabilities.every((p) => p >= 0 && p <= 1)).toBe(true);
    const labels = await model.predictClasses(images);
    expect(labels.length).toBe(count * 3);
    let right = 0;
    labels.forEach((l, i) => { right += l === values[i] ? 1 : 0; });
    expect(right / labels.length).toBeCloseTo(evaluation.labelAccuracy!, 6);
    const strict = await model.predictClasses(images, { threshold: 0.9 });
    expect(strict.reduce((a, b) => a + b, 0)).toBeLessThan(labels.reduce((a, b) => a + b, 0));
    expect(Array.from(strict.slice(0, 30))).toEqual(Array.from(probabilities.slice(0, 30), (p) => (p >= 0.9 ? 1 : 0)));

    // ONNX ends in Sigmoid: ONNX Runtime gives predict's probabilities.
    const session = await ort.InferenceSession.create(await model.toOnnx());
    const out = await session.run({ features: new ort.Tensor('float32', images.slice(0, 40), [10, 4]) });
    expectClose(out.probabilities.data as Float32Array, probabilities.subarray(0, 30), 1e-6, 1e-5, 'onnx probabilities');

    // The file records the loss; a model from it predicts the same.
    const bytes = await model.toSafetensors();
    expect(decodeSafetensors(bytes, 'bce.safetensors').metadata.loss).toBe('bce');
    const loaded = Model.fromSafetensors(device, bytes);
    expect(loaded.loss).toBe('bce');
    expect(await loaded.predict(images)).toEqual(probabilities);
    const classifier = new Model(device, { ...mlpOptions([4, 19, 3]), input: 'f32' });
    expect(() => classifier.importState(decodeModelState(bytes, 'bce.safetensors'), 'bce.safetensors'))
      .toThrow(/trained with loss 'bce', this one trains with 'cross-entropy'/);
    classifier.dispose();
    loaded.dispose();
    model.dispose();
  });

  it("'mse' exports ONNX ending in its values; a one-output checkpoint reads back", async () => {
    const model = new Model(device, { ...mlpOptions([3, 13, 1]), input: 'f32', loss: 'mse', seed: 3 });
    const x = randomArray(21, 3);
    const values = await model.predict(x);
    const session = await ort.InferenceSession.create(await model.toOnnx());
    expect(session.outputNames).toEqual(['values']);
    const out = await session.run({ features: new ort.Tensor('float32', x, [7, 3]) });
    expectClose(out.values.data as Float32Array, values, 1e-6, 1e-5, 'onnx values');
    const loaded = Model.fromSafetensors(device, await model.toSafetensors());
    expect(loaded.loss).toBe('mse');
    expect(await loaded.predict(x)).toEqual(values);
    loaded.dispose();
    model.dispose();
  });
});

describe('targets checked against the loss before any GPU work', () => {
  const mse = targetData(10, 4, 2, 'mse', 1);
  const withTargets = (values: number[], width = 2): FloatDataset => ({ ...mse, name: 'bad set', targets: { values: Float32Array.from(values), width }, count: values.length / width });
  it.each([
    ['cross-entropy', mse, /mse set: holds float targets \(2 per row\); a 'cross-entropy' model takes class labels/],
    ['mse', { ...mse, name: 'labelled', labels: new Uint8Array(10), targets: undefined }, /labelled: holds class labels; loss 'mse' needs float targets/],
    ['mse', withTargets([1, 2, 3], 3), /bad set: targets are 3 wide, the model has 2 outputs/],
    ['mse', withTargets([1, 2, 3, NaN]), /bad set: target 1 of row 1 is NaN, not a finite number/],
    ['bce', withTargets([1, 0, 0, 1.5]), /bad set: target 1 of row 1 is 1.5, outside \[0, 1\]/],
    ['bce', withTargets([1, 0, -0.25, 1]), /bad set: target 0 of row 1 is -0.25, outside \[0, 1\]/],
  ] as const)('%s refuses %#', async (loss, data, message) => {
    const model = new Model(device, { ...mlpOptions([4, 6, 2]), input: 'f32', loss });
    const fit = model.fit(data as FloatDataset, { epochs: 1, batchSize: 4, optimizer: { kind: 'adam', lr: 1e-3 } });
    await expect(fit).rejects.toThrow(BadInputError);
    await expect(fit).rejects.toThrow(message);
    await expect(model.evaluate(data as FloatDataset)).rejects.toThrow(message);
    expect(model.epochs).toBe(0);
    model.dispose();
  });

  it('R² against targets that never vary is NaN, not an infinite score', () => {
    const flat = Float32Array.of(2, 5, 2, 5, 2, 5);
    expect(totalSumOfSquares(flat, 3, 2)).toBe(0);
    expect(rSquared(0.25, 3, 2, 0)).toBeNaN();
    expect(rSquared(0, 3, 2, 0)).toBeNaN();
    expect(rSquared(0.5, 4, 1, 8)).toBe(0.75);
  });

  it('label smoothing, which only a softmax over classes takes, is refused for mse and bce', async () => {
    for (const loss of ['mse', 'bce'] as const) {
      const model = new Model(device, { ...mlpOptions([4, 6, 2]), input: 'f32', loss });
      await expect(model.fit(targetData(10, 4, 2, loss, 1), { epochs: 1, batchSize: 4, optimizer: { kind: 'adam', lr: 1e-3 }, labelSmoothing: 0.1 }))
        .rejects.toThrow(`labelSmoothing is for the 'cross-entropy' loss; this model trains with '${loss}'`);
      expect(model.epochs).toBe(0);
      model.dispose();
    }
  });

  it('a loss that is none of the three, and one output for a softmax, are refused', () => {
    expect(() => new Model(device, { ...mlpOptions([4, 2]), loss: 'hinge' as never })).toThrow(/loss must be one of cross-entropy, mse, bce, got 'hinge'/);
    expect(() => new Model(device, { ...mlpOptions([4, 1]) })).toThrow(/at least 2 classes/);
    const one = new Model(device, { ...mlpOptions([4, 1]), input: 'f32', loss: 'mse' });
    expect(one.classes).toBe(1);
    one.dispose();
  });
});

describe('the CLI', () => {
  it('train --loss parses its three choices and refuses mse/bce on MNIST class labels before opening the GPU', () => {
    const train = (loss: string) => spawnSync('node', ['--import', 'tsx', 'src/cli/train.ts', '--loss', loss], { encoding: 'utf8', timeout: 60_000 });
    const mse = train('mse');
    expect(mse.status).toBe(2);
    expect(mse.stderr).toContain('train: --loss mse needs float targets; MNIST has class labels: give --data FILE.csv with --target-columns');
    expect(mse.stdout).not.toContain('adapter:');
    expect(train('hinge').stderr).toContain("train: --loss must be one of cross-entropy, mse, bce, got 'hinge'");
  });
});
