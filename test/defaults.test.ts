// A model made the README's way (no `variants`) takes its kernels from the adapter behind its device: the
// software defaults on SwiftShader, the GPU choices on a GPU, a measured table only on the class it was measured
// on; `variants` still overrides. At WebGPU's default limits the GPU chains still give workgroup tiles.
import { describe, expect, it } from 'vitest';
import { matmulFamily, matmulUnsupported, matmulVariantName, type MatmulForm, type MatmulVariant } from '../shaders/matmul.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { adapterOfDevice, isLavapipe, recordAdapter, type AdapterDescription } from '../src/gpu/device.js';
import { readFloats, storageBuffer } from '../src/gpu/buffers.js';
import { chooseMatmul, DEFAULT_VARIANTS, matmulShapeKey, defaultVariantsFor, describeDefaults, GPU_VARIANTS, HOPPER_VARIANTS, LAVAPIPE_VARIANTS } from '../src/gpu/variants.js';
import { architecture } from '../src/layers/architecture.js';
import { parseLayers } from '../src/layers/index.js';
import { matmulInputs, runMatmul } from './helpers/matmul.js';
import * as ref from '../src/reference/ops.js';
import { trainingMatmuls } from '../src/tuning/autotune.js';
import { expectClose, gpuArray, openTestDevice, randomArray, runDispatches, testOps, withErrorScope } from './helpers/gpu.js';
import { mlpOptions } from './helpers/model.js';
import { mlpArchitecture } from '../src/engine/mlp.js';

const gpu = await openTestDevice();

describe('variants from the device', () => {
  it("the adapter that opened the test device gives its defaults: lavapipe's, SwiftShader's (software) or a GPU's", () => {
    expect(adapterOfDevice(gpu.device)?.isFallbackAdapter).toBe(gpu.adapterInfo.isFallbackAdapter);
    const model = new Model(gpu.device, { ...mlpOptions([784, 16, 10]) });
    const want = isLavapipe(gpu.adapterInfo) ? LAVAPIPE_VARIANTS : gpu.adapterInfo.isFallbackAdapter ? DEFAULT_VARIANTS : GPU_VARIANTS;
    // A GPU of a measured class gets its table on top of the shape rules.
    expect({ ...modelInternals(model).ops.choices, matmulByShape: undefined }).toEqual({ ...want, matmulByShape: undefined });
    if (gpu.adapterInfo.isFallbackAdapter) expect(modelInternals(model).ops.choices).toBe(want);
    model.dispose();
  });

  it('a device described as a GPU gets the GPU choices, and passing variants still overrides them', async () => {
    const other = await openTestDevice();
    const device = other.device;
    recordAdapter(device, { vendor: 'nvidia', architecture: 'hopper', device: 'H200', description: 'described for the test', isFallbackAdapter: false });
    const model = new Model(device, { ...mlpOptions([784, 16, 10]) });
    expect(modelInternals(model).ops.choices).toBe(HOPPER_VARIANTS);
    const chosen = new Model(device, { ...mlpOptions([784, 16, 10]), variants: DEFAULT_VARIANTS });
    expect(modelInternals(chosen).ops.choices).toBe(DEFAULT_VARIANTS);
    for (const m of [model, chosen]) m.dispose();
  });
});

const described = (vendor: string, architecture: string, device: string): AdapterDescription => ({ vendor, architecture, device, description: '', isFallbackAdapter: false });

describe('measured tables apply to their class only', () => {
  it.each([
    ['an H200 as Dawn names it (architecture unknown)', described('nvidia', 'unknown', 'nvidia-h200'), HOPPER_VARIANTS],
    ['an H100 with its architecture', described('nvidia', 'hopper', 'NVIDIA H100 80GB HBM3'), HOPPER_VARIANTS],
    ['an NVIDIA Ada card', described('nvidia', 'lovelace', 'NVIDIA GeForce RTX 4090'), GPU_VARIANTS],
    ['an Intel integrated GPU', described('intel', 'gen-12lp', 'Intel(R) Iris(R) Xe Graphics'), GPU_VARIANTS],
    ['an Apple GPU', described('apple', 'metal-3', 'Apple M2'), GPU_VARIANTS],
    ['a phone', described('qualcomm', 'adreno-7xx', 'Adreno (TM) 740'), GPU_VARIANTS],
    ['SwiftShader', { ...described('google', 'swiftshader', 'swiftshader-device'), isFallbackAdapter: true }, DEFAULT_VARIANTS],
    ['lavapipe', { ...described('mesa', 'software', 'llvmpipe-llvm-15-0-6-256-bits-'), isFallbackAdapter: true }, LAVAPIPE_VARIANTS],
  ])('%s', (_, adapter, want) => {
    expect(defaultVariantsFor(adapter)).toBe(want);
    expect(describeDefaults(adapter)).toMatch(
      want === HOPPER_VARIANTS ? /measured on NVIDIA Hopper/ : want === GPU_VARIANTS ? /GPU shape rules \(no table measured/ : want === LAVAPIPE_VARIANTS ? /^lavapipe's defaults$/ : /^software defaults$/,
    );
  });

  it('the shape rules hold no exact shapes; the Hopper defaults differ from them only by its table', () => {
    expect(GPU_VARIANTS.matmulByShape).toBeUndefined();
    expect({ ...HOPPER_VARIANTS, matmulByShape: undefined }).toEqual({ ...GPU_VARIANTS, matmulByShape: undefined });
  });
});

describe("lavapipe's defaults", () => {
  // The README's MLP and CNN at batch 128: every product of their training steps.
  const cnn = architecture(parseLayers('conv2d:8:k=5,relu,maxpool2d:2,conv2d:16:k=5,relu,maxpool2d:2,flatten,linear:128,relu,dropout:0.25,linear:10'), [1, 28, 28]);
  const products = [...trainingMatmuls(mlpArchitecture([784, 500, 10]), 128), ...trainingMatmuls(cnn, 128)];

  // The products where lavapipe sums in SwiftShader's scalar order rather than its first choice's (vec4 nt adds
  // four lanes at the end): there lavapipe matches SwiftShader's scalar candidate of the form, and not its choice.
  const scalarSums = new Set(['nt 8192×200×16']);
  const scalarOnly = { ...DEFAULT_VARIANTS, matmul: { nn: [], tn: [], nt: DEFAULT_VARIANTS.matmul.nt.filter((c) => !c.vec4) } };

  it('differ from the software defaults somewhere, and compute every product of both steps bit for bit as they do', async () => {
    const ops = testOps(gpu.device);
    const limits = gpu.device.limits;
    const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
    let differ = 0;
    let exceptions = 0;
    for (const [form, shape] of products) {
      const [lavapipe, software] = [LAVAPIPE_VARIANTS, DEFAULT_VARIANTS].map((choices) => chooseMatmul(choices, form, shape, limits));
      const scalar = scalarSums.has(matmulShapeKey(form, shape));
      const reference = scalar ? chooseMatmul(scalarOnly, form, shape, limits) : software;
      const what = `${form} ${shape.M}×${shape.N}×${shape.K}: ${matmulVariantName(lavapipe)} against ${matmulVariantName(reference)}`;
      expect(matmulFamily(lavapipe), what).toBe('register');
      if (matmulVariantName(lavapipe) === matmulVariantName(software)) continue;
      differ++;
      const c = { ...shape, epilogue: 'none' as const };
      const inputs = matmulInputs(c, differ);
      await withErrorScope(gpu.device, async () => {
        const [got, want] = [await runMatmul(gpu.device, ops, lavapipe, c, inputs), await runMatmul(gpu.device, ops, reference, c, inputs)];
        const mismatches = bits(got.got).filter((b, i) => b !== bits(want.got)[i]).length;
        expect(mismatches, what).toBe(0);
        if (!scalar) return;
        // A real exception: SwiftShader's own choice gives other bits here.
        exceptions++;
        const first = await runMatmul(gpu.device, ops, software, c, inputs);
        expect(bits(got.got).some((b, i) => b !== bits(first.got)[i]), `${what}: listed as summing in another order`).toBe(true);
      });
    }
    expect(differ).toBeGreaterThanOrEqual(4);
    expect(exceptions).toBe(scalarSums.size);
  });
});

describe('at WebGPU default limits (no requiredLimits)', async () => {
  const raised = gpu.device.limits;
  const plain = await openTestDevice({ defaultLimits: true });
  const limits = plain.device.limits;
  const products = [...trainingMatmuls(mlpArchitecture([784, 500, 10]), 128), ...trainingMatmuls(mlpArchitecture([784, 4096, 4096, 10]), 1024)];

  it('the device has the default 16 KiB of workgroup memory and 256 invocations', () => {
    expect(limits.maxComputeWorkgroupStorageSize).toBe(16384);
    expect(limits.maxComputeInvocationsPerWorkgroup).toBe(256);
    expect(raised.maxComputeWorkgroupStorageSize).toBeGreaterThan(16384);
  });

  const classes = [['Hopper defaults', HOPPER_VARIANTS], ['GPU shape rules', GPU_VARIANTS]] as const;
  const choicesOf = (choices: typeof GPU_VARIANTS) => products.map(([form, shape]) => ({
    what: `${form} ${shape.M}×${shape.N}×${shape.K}`, high: chooseMatmul(choices, form, shape, raised), low: chooseMatmul(choices, form, shape, limits),
  }));

  it.each(classes)('%s: a product tiled or split along K at raised limits stays so', (_, choices) => {
    const rows = choicesOf(choices);
    const table = rows.map((r) => `${r.what}: ${matmulVariantName(r.high)} → ${matmulVariantName(r.low)}`).join('\n');
    for (const r of rows) if (matmulFamily(r.high) !== 'register') expect(matmulFamily(r.low), table).not.toBe('register');
    // Only the smallest products (128×500×10 and the like) run on register tiles at all.
    expect(rows.filter((r) => matmulFamily(r.low) === 'register').length, table).toBeLessThanOrEqual(2);
  });

  it('every variant chosen there matches the float64 reference on an odd shape it runs', async () => {
    const ops = testOps(plain.device);
    // Odd where the variant allows it; vec4 forms need some sides multiples of 4, none a multiple of a tile.
    const shapes = [{ M: 37, N: 29, K: 13 }, { M: 67, N: 44, K: 52 }, { M: 68, N: 44, K: 37 }, { M: 132, N: 68, K: 36 }];
    const chosen = new Map<string, MatmulVariant>();
    for (const [, choices] of classes) for (const r of choicesOf(choices)) chosen.set(matmulVariantName(r.low), r.low);
    expect(chosen.size).toBeGreaterThan(3);
    for (const variant of chosen.values()) {
      const shape = shapes.find((s) => matmulUnsupported(variant, s) === null)!;
      expect(shape, matmulVariantName(variant)).toBeDefined();
      const { M, N, K } = shape;
      const a = randomArray(M * K, 1);
      const b = randomArray(N * K, 2);
      const want = new Float64Array(M * N);
      ({ nn: ref.matmulNN, nt: ref.matmulNT, tn: ref.matmulTN } as const)[variant.form as MatmulForm](want, a, b, M, N, K);
      await withErrorScope(plain.device, async () => {
        const out = storageBuffer(plain.device, M * N * 4, 'C');
        const d = ops.matmul(variant.form, { buffer: out }, { buffer: gpuArray(plain.device, a) }, { buffer: gpuArray(plain.device, b) }, M, N, K, { variant });
        await runDispatches(plain.device, [d]);
        expectClose(await readFloats(plain.device, out, 0, M * N), want, 1e-5, 1e-4, d.label);
      });
    }
  });
});
