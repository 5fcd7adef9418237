// Models whose inputs are f32 features (input: 'f32') rather than u8 pixels: gradients against the float64
// reference, the GPU-resident and uploaded training paths, predict, data checks, checkpoints, and Iris.
import { describe, expect, it } from 'vitest';
import { checkDataset, pickDataset, sliceDataset, type FloatDataset } from '../src/data/dataset.js';
import { irisDataset, irisSplits } from '../src/data/iris.js';
import { featureStandardization } from '../src/data/standardize.js';
import { decodeSafetensors, encodeSafetensors } from '../src/data/safetensors.js';
import { loadCheckpoint } from '../src/engine/checkpoint.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { GPU_VARIANTS } from '../src/gpu/variants.js';
import { BadInputError } from '../src/errors.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { BATCH_UNIFORM_BYTES, packBatchUniform } from '../shaders/batchUniform.js';
import { UniformWords } from '../shaders/bindings.js';
import { readBuffer, storageBuffer, uniformBuffer } from '../src/gpu/buffers.js';
import { gpuArray, openTestDevice, randomArray, runDispatches, testOps, withErrorScope } from './helpers/gpu.js';
import { expectGradientsClose, syntheticData, mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();

/** `count` rows of `features` values in [−2, 2) with labels below `classes` (as u16, to use a wider label type). */
function floatData(count: number, features: number, classes: number, seed: number): FloatDataset {
  const images = randomArray(count * features, seed).map((x) => 2 * x);
  const labels = Uint16Array.from(randomArray(count, seed + 1), (x) => Math.floor(((x + 1) / 2) * classes) % classes);
  return { name: 'floats', images, labels, count, features };
}

const softmaxRows = (logits: Float64Array, classes: number): number[] => {
  const out: number[] = [];
  for (let r = 0; r < logits.length / classes; r++) {
    const z = Array.from(logits.subarray(r * classes, (r + 1) * classes));
    const e = z.map((v) => Math.exp(v - Math.max(...z)));
    const sum = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / sum));
  }
  return out;
};

describe('f32 inputs: whole-model gradients against the float64 reference', () => {
  it.each([
    { what: 'software defaults', variants: undefined },
    { what: 'GPU defaults', variants: GPU_VARIANTS },
  ])('13 features, 7 classes, hidden 37, batch 29 ($what)', async ({ variants }) => {
    await withErrorScope(gpu.device, async () => {
      const sizes = [13, 37, 7];
      const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 3, input: 'f32', variants });
      const data = floatData(29, 13, 7, 5);
      const want = mlpForwardBackward(await model.getParams(), modelInternals(model).parameters.layout, sizes, data.images, data.labels, 29);
      expectGradientsClose(await model.gradients(data), want.grads, modelInternals(model).parameters.layout.tensors);
      const evaluation = await model.evaluate(data);
      expect(Math.abs(evaluation.loss - want.loss)).toBeLessThan(1e-5 * Math.max(1, want.loss));
      expect(evaluation.accuracy).toBeCloseTo(want.correct / 29, 10);
      // The first layer reads f32 (no u8 unpacking): its products use the hidden layers' f32 variants.
      const labels = modelInternals(model).plan('train', 29).forward.map((d) => d.label);
      expect(modelInternals(model).plan('train', 29).input.label).toBe('input f32');
      expect(labels[0]).toMatch(/^matmulNN 29×37×13 /);
      model.dispose();
    });
  });
});

describe('more than 256 classes', () => {
  it('u16 labels up to 299 train, evaluate and reach the reference gradients', async () => {
    await withErrorScope(gpu.device, async () => {
      const sizes = [6, 300];
      const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 2, input: 'f32' });
      const data: FloatDataset = { ...floatData(9, 6, 300, 13), labels: Uint16Array.from([299, 256, 0, 255, 298, 1, 257, 150, 299]) };
      const want = mlpForwardBackward(await model.getParams(), modelInternals(model).parameters.layout, sizes, data.images, data.labels, 9);
      expectGradientsClose(await model.gradients(data), want.grads, modelInternals(model).parameters.layout.tensors);
      const before = await model.evaluate(data);
      expect(Math.abs(before.loss - want.loss)).toBeLessThan(1e-5 * want.loss);
      await model.fit(data, { epochs: 30, batchSize: 9, optimizer: { kind: 'adam', lr: 5e-2 }, gpuResidentData: true });
      expect((await model.evaluate(data)).loss).toBeLessThan(before.loss / 2);
      model.dispose();
    });
  });
});

describe('gatherBatch with f32 inputs', () => {
  it('copies the rows at order[start .. start+rows) bit for bit and zeroes the rest of the capacity', async () => {
    await withErrorScope(gpu.device, async () => {
      const [count, F, capacity, start, rows] = [11, 13, 8, 3, 5];
      const images = randomArray(count * F, 31);
      images[2] = -0;
      images[3] = 1e-40; // a subnormal: a float copy could flush it, a bit copy keeps it
      const labels = Uint32Array.from({ length: count }, (_, i) => (i * 5) % 7);
      const order = Uint32Array.from([4, 9, 0, 7, 2, 10, 1, 8, 3, 6, 5]);
      const words = new UniformWords(BATCH_UNIFORM_BYTES);
      const batch = uniformBuffer(gpu.device, BATCH_UNIFORM_BYTES, 'batch');
      gpu.device.queue.writeBuffer(batch, 0, packBatchUniform(words, { rows, start }));
      const [input, batchLabels] = [storageBuffer(gpu.device, capacity * F * 4, 'input'), storageBuffer(gpu.device, capacity * 4, 'batchLabels')];
      gpu.device.queue.writeBuffer(input, 0, new Float32Array(capacity * F).fill(7)); // stale values to be overwritten
      const sources = [gpuArray(gpu.device, images), gpuArray(gpu.device, labels), gpuArray(gpu.device, order)].map((buffer) => ({ buffer }));
      const dispatch = testOps(gpu.device).gatherBatch({ buffer: input }, { buffer: batchLabels }, sources[0], sources[1], sources[2], { buffer: batch }, capacity, F, 'f32');
      await runDispatches(gpu.device, [dispatch]);
      const want = new Float32Array(capacity * F);
      const wantLabels = new Uint32Array(capacity);
      for (let r = 0; r < rows; r++) {
        const i = order[start + r];
        want.set(images.subarray(i * F, (i + 1) * F), r * F);
        wantLabels[r] = labels[i];
      }
      expect(Buffer.from(await readBuffer(gpu.device, input)).equals(Buffer.from(want.buffer))).toBe(true);
      expect(Array.from(new Uint32Array(await readBuffer(gpu.device, batchLabels)))).toEqual(Array.from(wantLabels));
      for (const b of [batch, input, batchLabels, ...sources.map((s) => s.buffer)]) b.destroy();
    });
  });
});

describe('f32 inputs: training', () => {
  it('GPU-resident batches (gathered on the GPU, several steps per submission) train to the uploaded result bit for bit', async () => {
    const data = floatData(150, 13, 7, 11);
    const train = async (gpuResidentData: boolean, stepsPerSubmit: number) => {
      const model = new Model(gpu.device, { ...mlpOptions([13, 37, 7]), seed: 4, input: 'f32' });
      const history = await model.fit(data, { epochs: 2, batchSize: 16, optimizer: { kind: 'adam', lr: 1e-2 }, progressEvery: 4, gpuResidentData, stepsPerSubmit });
      const params = await model.getParams();
      model.dispose();
      return { params, history: history.map((h) => [h.trainLoss, h.trainAccuracy]) };
    };
    const uploaded = await train(false, 1);
    for (const stepsPerSubmit of [1, 3]) {
      const resident = await train(true, stepsPerSubmit);
      expect(resident.history, `${stepsPerSubmit} per submission`).toEqual(uploaded.history);
      expect(Buffer.from(resident.params.buffer).equals(Buffer.from(uploaded.params.buffer)), `${stepsPerSubmit} per submission: parameters differ`).toBe(true);
    }
    expect(uploaded.history[1][0]).toBeLessThan(uploaded.history[0][0]);
  });

  it('Iris trains to ≥ 90 % accuracy on 30 held-out flowers', async () => {
    const { train, test } = irisSplits({ seed: 0 });
    const model = new Model(gpu.device, { ...mlpOptions([4, 16, 3]), seed: 0, input: 'f32' });
    const started = performance.now();
    const history = await model.fit(train, { epochs: 20, batchSize: 16, optimizer: { kind: 'adam', lr: 1e-2 }, progressEvery: 0 });
    const result = await model.evaluate(test);
    const seconds = (performance.now() - started) / 1000;
    console.log(`iris: ${history.length} epochs in ${seconds.toFixed(1)} s, train accuracy ${history.at(-1)!.trainAccuracy.toFixed(3)}, test ${result.accuracy.toFixed(3)} (loss ${result.loss.toFixed(3)})`);
    expect(result.count).toBe(30);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.9);
    model.dispose();
  });
});

describe('f32 inputs: predict', () => {
  it('returns the softmax of the reference logits, over several batches', async () => {
    const sizes = [13, 37, 7];
    const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 1, input: 'f32', evaluationBatch: 4 });
    const data = floatData(10, 13, 7, 21);
    const probs = await model.predict(data.images);
    const ref = mlpForwardBackward(await model.getParams(), modelInternals(model).parameters.layout, sizes, data.images, data.labels, 10);
    const want = softmaxRows(ref.logits, 7);
    probs.forEach((p, i) => expect(Math.abs(p - want[i])).toBeLessThan(1e-5));
    await expect(model.predict(new Uint8Array(26))).rejects.toThrow(/^predict: holds u8 pixels \(a Uint8Array\), the model takes f32 features \(a Float32Array\)/);
    await expect(model.predict(new Float32Array(20))).rejects.toThrow(/^predict: 20 values is not a whole, positive number of 13-feature rows/);
    const bad = data.images.slice();
    bad[13 + 4] = Infinity;
    await expect(model.predict(bad)).rejects.toThrow(/^predict: feature 4 of row 1 is Infinity/);
    model.dispose();
  });
});

describe('f32 data sets', () => {
  it('checkDataset names the data set, index and value of what is wrong', () => {
    const good = floatData(6, 13, 7, 3);
    expect(() => checkDataset(good, 13, 7, 'f32')).not.toThrow();
    const nan = { ...good, name: 'noisy', images: good.images.slice() };
    nan.images[5 * 13 + 2] = NaN;
    expect(() => checkDataset(nan, 13, 7, 'f32')).toThrow(BadInputError);
    expect(() => checkDataset(nan, 13, 7, 'f32')).toThrow(/^noisy: feature 2 of row 5 is NaN, not a finite number/);
    const label = { ...good, name: 'mislabelled', labels: Uint16Array.from([0, 1, 2, 7, 0, 0]) };
    expect(() => checkDataset(label, 13, 7, 'f32')).toThrow(/^mislabelled: label 7 at index 3 is not below the 7 classes/);
    const negative = { ...good, name: 'negative', labels: Int32Array.from([0, -1, 2, 3, 0, 0]) };
    expect(() => checkDataset(negative, 13, 7, 'f32')).toThrow(/^negative: label -1 at index 1 is not below the 7 classes/);
    expect(() => checkDataset({ ...good, name: 'short', images: good.images.subarray(0, 70) }, 13, 7, 'f32')).toThrow(/^short: 70 feature values for 6×13/);
    expect(() => checkDataset({ ...good, name: 'few', labels: good.labels.subarray(0, 4) }, 13, 7, 'f32')).toThrow(/^few: 4 labels for 6 rows/);
    expect(() => checkDataset(good, 12, 7, 'f32')).toThrow(/^floats: rows have 13 features, the model takes 12/);
    expect(() => checkDataset(good, 13, 7)).toThrow(/^floats: holds f32 features \(a Float32Array\), the model takes u8 pixels \(a Uint8Array\)/);
  });

  it('a model refuses the other input kind, and pixel normalization with f32 inputs', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([13, 8, 7]), input: 'f32' });
    await expect(model.fit(syntheticData(8, 13, 7, 1), { epochs: 1, batchSize: 4, optimizer: { kind: 'sgd', lr: 0.1 } }))
      .rejects.toThrow(/^synthetic: holds u8 pixels \(a Uint8Array\), the model takes f32 features/);
    const nan = floatData(8, 13, 7, 2);
    nan.images[3] = NaN;
    await expect(model.evaluate(nan)).rejects.toThrow(/^floats: feature 3 of row 0 is NaN/);
    model.dispose();
    expect(() => new Model(gpu.device, { ...mlpOptions([13, 8, 7]), input: 'f32', pixelStd: 0.3 })).toThrow(/pixelMean and pixelStd are for u8 pixels/);
    expect(() => new Model(gpu.device, { ...mlpOptions([13, 8, 7]), input: 'u16' as 'u8' })).toThrow(/input must be 'u8' or 'f32', got 'u16'/);
  });

  it('sliceDataset and pickDataset keep f32 features and wide labels', () => {
    const d = floatData(9, 13, 7, 8);
    const slice = sliceDataset(d, 2, 3);
    expect(slice.images).toBeInstanceOf(Float32Array);
    expect(Array.from(slice.images)).toEqual(Array.from(d.images.subarray(26, 65)));
    const picked = pickDataset(d, [8, 0], 'picked');
    expect(picked.images).toBeInstanceOf(Float32Array);
    expect(picked.labels).toBeInstanceOf(Uint16Array);
    expect(Array.from(picked.images)).toEqual([...d.images.subarray(104, 117), ...d.images.subarray(0, 13)]);
    expect(Array.from(picked.labels)).toEqual([d.labels[8], d.labels[0]]);
  });

  it('Iris: 150 rows as in load_iris, 50 per species; the splits are standardized by the training rows', () => {
    const iris = irisDataset();
    expect(iris.count).toBe(150);
    const row = (i: number) => Array.from(iris.images.subarray(i * 4, i * 4 + 4)).map((x) => Math.round(x * 10) / 10);
    expect(row(0)).toEqual([5.1, 3.5, 1.4, 0.2]);
    expect(row(50)).toEqual([7.0, 3.2, 4.7, 1.4]);
    expect(row(100)).toEqual([6.3, 3.3, 6.0, 2.5]);
    expect(row(149)).toEqual([5.9, 3.0, 5.1, 1.8]);
    expect([0, 1, 2].map((c) => iris.labels.filter((l) => l === c).length)).toEqual([50, 50, 50]);
    // The column means of Fisher's table (cm).
    expect(Array.from(featureStandardization(iris).mean, (m) => Number(m.toFixed(3)))).toEqual([5.843, 3.057, 3.758, 1.199]);
    const { train, test } = irisSplits({ seed: 1 });
    expect([train.count, test.count]).toEqual([120, 30]);
    const s = featureStandardization(train);
    s.mean.forEach((m) => expect(Math.abs(m)).toBeLessThan(1e-6));
    s.std.forEach((d) => expect(Math.abs(d - 1)).toBeLessThan(1e-6));
  });
});

describe('f32 inputs: checkpoints', () => {
  it('save → load keeps the input kind; files without it hold u8 models', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([13, 9, 7]), seed: 6, input: 'f32' });
    await model.fit(floatData(40, 13, 7, 4), { epochs: 1, batchSize: 8, optimizer: { kind: 'adam', lr: 1e-2 } });
    const bytes = await model.toSafetensors({ full: true });
    const file = decodeSafetensors(bytes, 'f32.safetensors');
    expect(file.metadata.input).toBe('f32');
    expect(file.metadata.pixel_mean).toBeUndefined();
    const copy = Model.fromSafetensors(gpu.device, bytes, 'f32.safetensors');
    expect(copy.input).toBe('f32');
    const x = floatData(5, 13, 7, 9).images;
    expect(Array.from(await copy.predict(x))).toEqual(Array.from(await model.predict(x)));

    const u8 = new Model(gpu.device, { ...mlpOptions([13, 9, 7]), seed: 6 });
    expect(() => loadCheckpoint(u8, file, 'f32.safetensors')).toThrow(/^f32\.safetensors: holds a model of f32 inputs, this one takes u8/);
    const old = decodeSafetensors(await u8.toSafetensors(), 'old.safetensors');
    delete old.metadata.input;
    const oldModel = Model.fromSafetensors(gpu.device, encodeSafetensors([...old.tensors.entries()], old.metadata), 'old.safetensors');
    expect(oldModel.input).toBe('u8');
    for (const m of [model, copy, u8, oldModel]) m.dispose();
  });
});
