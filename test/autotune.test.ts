// Autotuning: picks a verified variant per shape, caches it per adapter and engine version, and a model built
// with the tuned choices uses them and still matches the float64 reference.
import { describe, expect, it } from 'vitest';
import { matmulFamily, matmulUnsupported, type MatmulForm, type MatmulVariant } from '../shaders/matmul.js';
import { GPU_MEASURED } from '../src/gpu/measuredVariants.js';
import { autotuneVariants, trainingMatmuls, tunedCodeHash, tuneKey, type TunedChoice, type TuneStore } from '../src/tuning/autotune.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { chooseMatmul, defaultVariantsFor, matmulShapeKey, DEFAULT_VARIANTS, GPU_VARIANTS, HOPPER_VARIANTS } from '../src/gpu/variants.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { sliceDataset } from '../src/data/dataset.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { openTestDevice } from './helpers/gpu.js';
import { mlpOptions } from './helpers/model.js';
import { mlpArchitecture } from '../src/engine/mlp.js';

const gpu = await openTestDevice();

function memoryStore(): TuneStore & { saved: Record<string, Record<string, TunedChoice>> } {
  const saved: Record<string, Record<string, TunedChoice>> = {};
  return { saved, load: (k) => saved[k], save: (k, v) => { saved[k] = v; } };
}

/** The tuned shapes with the exact shapes the adapter's defaults already hold (lavapipe's table), sorted. */
const withDefaultTable = (shapes: string[]) => [...new Set([...shapes, ...Object.keys(defaultVariantsFor(gpu.adapterInfo).matmulByShape ?? {})])].sort();

describe('autotune', () => {
  const sizes = [784, 32, 10];

  it('lists the products a step runs: the first layer reads u8 pixels, or f32 features like the others', () => {
    const u8 = trainingMatmuls(mlpArchitecture([13, 37, 7]), 29);
    const f32 = trainingMatmuls(mlpArchitecture([13, 37, 7]), 29, 'f32');
    expect(u8.map(([form, shape]) => [form, shape.inputU8 ?? false])).toEqual([['nn', true], ['tn', true], ['nn', false], ['tn', false], ['nt', false]]);
    expect(f32.map(([form, shape]) => [form, shape.inputU8 ?? false])).toEqual([['nn', false], ['tn', false], ['nn', false], ['tn', false], ['nt', false]]);
    expect(f32.map(([, shape]) => [shape.M, shape.N, shape.K])).toEqual(u8.map(([, shape]) => [shape.M, shape.N, shape.K]));
  });

  it('chooses a variant for every matmul of the step, caches it, and reuses the cache', async () => {
    const store = memoryStore();
    const lines: string[] = [];
    const tuned = await autotuneVariants(gpu.device, { architecture: mlpArchitecture(sizes), batchSizes: [16], adapter: gpu.adapterInfo, store, budgetMs: 800, log: (l) => lines.push(l) });
    const shapes = trainingMatmuls(mlpArchitecture(sizes), 16).map(([form, shape]) => matmulShapeKey(form, shape));
    expect(Object.keys(tuned.matmulByShape!).sort()).toEqual(withDefaultTable(shapes));
    // A header, then one progress line per product.
    expect(lines).toHaveLength(shapes.length + 1);
    expect(lines[0]).toMatch(/^autotune: 5 products, up to 0\.8 s each$/);
    expect(lines[shapes.length]).toMatch(/^autotune 5\/5: .+ → .+ \(.+ ms; \d+ of \d+ timed in .+ s\)$/);
    expect(Object.keys(store.saved)).toEqual([tuneKey(gpu.adapterInfo)]);

    const again: string[] = [];
    const cached = await autotuneVariants(gpu.device, { architecture: mlpArchitecture(sizes), batchSizes: [16], adapter: gpu.adapterInfo, store, log: (l) => again.push(l) });
    expect(again).toEqual([]);
    expect(cached.matmulByShape).toEqual(tuned.matmulByShape);
  });

  it('a damaged stored choice is dropped, said in a line, and tuned again', async () => {
    const store = memoryStore();
    const shapes = trainingMatmuls(mlpArchitecture(sizes), 16).map(([form, shape]) => matmulShapeKey(form, shape));
    store.saved[tuneKey(gpu.adapterInfo)] = { [shapes[0]]: { family: 'tiled', workgroupSize: 1 << 20 } as unknown as TunedChoice };
    const lines: string[] = [];
    const tuned = await autotuneVariants(gpu.device, { architecture: mlpArchitecture(sizes), batchSizes: [16], adapter: gpu.adapterInfo, store, budgetMs: 300, log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(new RegExp(`^autotune: dropping the stored choice for ${shapes[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(.+\\); it is tuned again$`));
    expect(lines[1]).toMatch(/^autotune: 5 products/);
    expect(Object.keys(tuned.matmulByShape!).sort()).toEqual(withDefaultTable(shapes));
  });

  it('a stored choice timed on a kernel whose code has changed since (or stored without its code hash) is tuned again', async () => {
    const store = memoryStore();
    const lines: string[] = [];
    await autotuneVariants(gpu.device, { architecture: mlpArchitecture(sizes), batchSizes: [16], adapter: gpu.adapterInfo, store, budgetMs: 300 });
    const entries = store.saved[tuneKey(gpu.adapterInfo)];
    const [first, second] = trainingMatmuls(mlpArchitecture(sizes), 16).map(([form, shape]) => matmulShapeKey(form, shape));
    expect(entries[first].code).toBe(tunedCodeHash(first, entries[first].variant));
    entries[first] = { ...entries[first], code: '0123456789abcdef' };
    entries[second] = entries[second].variant as unknown as TunedChoice; // the old format: a bare variant
    await autotuneVariants(gpu.device, { architecture: mlpArchitecture(sizes), batchSizes: [16], adapter: gpu.adapterInfo, store, budgetMs: 300, log: (l) => lines.push(l) });
    expect(lines[0]).toBe(`autotune: dropping the stored choice for ${first} (timed on a kernel whose code has changed since); it is tuned again`);
    expect(lines[1]).toMatch(new RegExp(`^autotune: dropping the stored choice for ${second.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`));
    expect(lines[2]).toBe('autotune: 2 products, up to 0.3 s each');
    // Another kernel's code gives another hash.
    expect(tunedCodeHash(first, { ...entries[first].variant, workgroupSize: 32 })).not.toBe(entries[first].code);
  });

  it('a model with tuned variants uses them and matches the reference gradients', async () => {
    const tuned = await autotuneVariants(gpu.device, { architecture: mlpArchitecture(sizes), batchSizes: [16], adapter: gpu.adapterInfo, store: memoryStore(), budgetMs: 800 });
    const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 2, variants: tuned });
    const plan = modelInternals(model).plan('train', 16);
    const wanted = tuned.matmulByShape![matmulShapeKey('tn', { M: 784, N: 32, K: 16, inputU8: true })];
    expect(plan.backward.some((d) => d.label.includes(`${wanted.tileRows}x${wanted.tileCols}`))).toBe(true);
    const data = sliceDataset(loadMnist().train, 0, 16, 'batch');
    const want = mlpForwardBackward(await model.getParams(), modelInternals(model).parameters.layout, sizes, data.images, data.labels, 16);
    const got = await model.gradients(data);
    let worst = 0;
    for (let i = 0; i < want.grads.length; i++) worst = Math.max(worst, Math.abs(got[i] - want.grads[i]) / (1e-5 + 1e-3 * Math.abs(want.grads[i])));
    expect(worst).toBeLessThanOrEqual(1);
    model.dispose();
  });

  it('ships a measured GPU table whose every choice runs its shape, and shape-class rules for the rest', () => {
    const limits = gpu.device.limits;
    for (const [key, variant] of Object.entries(GPU_MEASURED.choices)) {
      const [, form, M, N, K, u8] = key.match(/^(nn|nt|tn) (\d+)×(\d+)×(\d+)( u8)?$/)!;
      const shape = { M: Number(M), N: Number(N), K: Number(K), inputU8: Boolean(u8) };
      expect(matmulShapeKey(form as MatmulForm, shape)).toBe(key);
      expect(matmulUnsupported(variant, shape), key).toBeNull();
      expect(chooseMatmul(HOPPER_VARIANTS, form as MatmulForm, shape, limits), key).toEqual(variant);
    }
    // Shapes the table does not hold: K split for few outputs, workgroup tiles for many.
    expect(matmulFamily(chooseMatmul(GPU_VARIANTS, 'nn', { M: 64, N: 10, K: 300 }, limits))).toBe('reduceK');
    expect(matmulFamily(chooseMatmul(GPU_VARIANTS, 'tn', { M: 784, N: 300, K: 256 }, limits))).toBe('tiled');
    expect(matmulFamily(chooseMatmul(GPU_VARIANTS, 'nt', { M: 37, N: 29, K: 13 }, limits))).toBe('register');
  });

  it('ships defaults per adapter class', () => {
    const other = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device', description: '' };
    expect(defaultVariantsFor({ ...other, isFallbackAdapter: true })).toBe(DEFAULT_VARIANTS);
    expect(defaultVariantsFor({ ...other, isFallbackAdapter: false })).toBe(GPU_VARIANTS);
  });
});
