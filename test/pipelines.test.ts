// A model's products do not compile in the batch size: nn and nt read their rows from the bound output, so
// evaluate and predict after fit (1,000 rows against fit's 64) reuse fit's forward products and compile only
// their own softmax; the same kernels give the same probabilities at any evaluation batch. Background compiles
// wait for a fit's first step.
import { describe, expect, it } from 'vitest';
import { sliceDataset } from '../src/data/dataset.js';
import { Model } from '../src/engine/model.js';
import { PipelineCache, pipelineCacheFor } from '../src/gpu/dispatch.js';
import { input, output } from '../shaders/bindings.js';
import { GPU_VARIANTS, DEFAULT_VARIANTS } from '../src/gpu/variants.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { matmulShader, matmulVariantName } from '../shaders/matmul.js';
import { openTestDevice } from './helpers/gpu.js';
import { mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();
const mnist = loadMnist();

describe('pipelines independent of the batch size', () => {
  it('nn and nt kernels are the same WGSL at every M, for every candidate of every family; tn keeps its M', () => {
    for (const choices of [DEFAULT_VARIANTS, GPU_VARIANTS]) {
      for (const form of ['nn', 'nt', 'tn'] as const) {
        for (const v of choices.matmul[form]) {
          const at = (M: number) => matmulShader(v, { M, N: 132, K: 200, epilogue: form === 'tn' ? 'none' : 'bias' });
          if (form === 'tn') expect(at(64), matmulVariantName(v)).not.toBe(at(1000));
          else expect(at(64), matmulVariantName(v)).toBe(at(1000));
        }
      }
    }
  });

  it('evaluate after fit compiles only its loss kernel, predict nothing (fit compiled its softmax); another evaluation batch compiles no product', async () => {
    const variants = DEFAULT_VARIANTS;
    const cache = pipelineCacheFor(gpu.device);
    const model = new Model(gpu.device, { layers: [{ kind: 'linear', outputs: 37 }, { kind: 'relu' }, { kind: 'linear', outputs: 10 }], seed: 5, variants: { ...variants, stepsPerSubmit: 1 } });
    await model.fit(sliceDataset(mnist.train, 0, 320, 'train'), { epochs: 1, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-3 } });
    const compiledBy = async (body: () => Promise<unknown>) => {
      const before = cache.compiled.entryPoints.length;
      await body();
      return cache.compiled.entryPoints.slice(before);
    };
    const test = sliceDataset(mnist.test, 0, 1000, 'test');
    // evaluate: the loss kernel without its gradient, nothing else; a second evaluate nothing at all.
    expect(await compiledBy(() => model.evaluate(test))).toEqual(['softmaxCrossEntropy']);
    expect(await compiledBy(() => model.evaluate(test))).toEqual([]);
    let probabilities!: Float32Array;
    expect(await compiledBy(async () => (probabilities = await model.predict(test.images, { count: 1000 })))).toEqual([]);
    // Another evaluation batch (100 rows): no new product either, and the same probabilities bit for bit.
    const twin = new Model(gpu.device, { layers: [{ kind: 'linear', outputs: 37 }, { kind: 'relu' }, { kind: 'linear', outputs: 10 }], variants: { ...variants, stepsPerSubmit: 1 }, evaluationBatch: 100 });
    twin.setParams(await model.getParams());
    let again!: Float32Array;
    expect((await compiledBy(async () => (again = await twin.predict(test.images, { count: 1000 })))).filter((e) => e.startsWith('matmul'))).toEqual([]);
    expect(Buffer.from(again.buffer).equals(Buffer.from(probabilities.buffer))).toBe(true);
    twin.dispose();
    model.dispose();
  });
});

describe('background compiles wait for the first step', () => {
  const code = matmulShader({ form: 'nn', vec4: true, tileRows: 16, tileCols: 8, workgroupSize: 64 }, { M: 40, N: 36, K: 28, epilogue: 'none' });
  const bindings = [input('A'), input('B'), output('C')];

  it('a held cache starts no background compile until the gate settles, those queued before it included', async () => {
    const cache = new PipelineCache(gpu.device);
    let open = () => {};
    const queued = cache.getAsync(`${code}\n// queued before the hold`, 'matmulNN', bindings);
    cache.holdBackgroundUntil(new Promise<void>((done) => (open = done)));
    const after = cache.getAsync(code, 'matmulNN', bindings);
    await new Promise((wait) => setTimeout(wait, 300));
    expect(cache.compiled.background, 'nothing compiles while held').toBe(0);
    open();
    expect(await queued).not.toBeNull();
    expect(await after).not.toBeNull();
    expect(cache.compiled.background).toBe(2);
  });

  it('a fit that fails before its first step lets its device cache go; after a fit the full kernels finish', async () => {
    const cache = pipelineCacheFor(gpu.device);
    const model = new Model(gpu.device, { ...mlpOptions([784, 24, 10]), seed: 2 });
    const train = sliceDataset(mnist.train, 0, 64, 'train');
    await expect(model.fit(train, { epochs: 0, batchSize: 32, optimizer: { kind: 'adam', lr: 1e-3 } })).rejects.toThrow(/epochs must be a positive integer/);
    const before = cache.compiled.background;
    expect(await cache.getAsync(`${code}\n// after a failed fit`, 'matmulNN', bindings)).not.toBeNull();
    expect(cache.compiled.background).toBe(before + 1);
    await model.fit(train, { epochs: 1, batchSize: 32, optimizer: { kind: 'adam', lr: 1e-3 } });
    await model.kernelsReady();
    model.dispose();
  });
});
