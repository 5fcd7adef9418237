// Precision 'f16': the tiled matmul staging its slices of A and B in half precision (f16 × f16 → f32). The
// kernels run in their native form (enable f16, vec4<f16>) where the device has shader-f16 (lavapipe), else in
// their 'packed' form (the same halves, two to a u32 via pack2x16float; SwiftShader), the suite running this file
// on both, each checked against float64 on odd shapes in every form, with u8 pixels and fused epilogues; the native
// form's WGSL is checked for its directive and types; a model asking for 'f16' on a device without the feature
// is refused by name with nothing allocated; and a model on half-precision kernels trains to the accuracy of its
// f32 twin (natively, through precision 'f16', where the device has the feature).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { matmulShader, matmulVariantName, matmulWorkgroupBytes, parseMatmulVariant, type MatmulForm, type MatmulVariant } from '../shaders/matmul.js';
import { liveBuffers } from '../src/gpu/buffers.js';
import { halfPrecisionVariants } from '../src/gpu/precision.js';
import { GPU_VARIANTS, DEFAULT_VARIANTS } from '../src/gpu/variants.js';
import { Model } from '../src/engine/model.js';
import { sliceDataset } from '../src/data/dataset.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { MissingFeatureError } from '../src/errors.js';
import { modelInternals } from '../src/engine/internals.js';
import * as ref from '../src/reference/ops.js';
import { openTestDevice, testOps, withErrorScope } from './helpers/gpu.js';
import { BIAS_RELU, epilogueReference, matmulInputs, RELU_BACKWARD, runMatmul, type MatmulCase } from './helpers/matmul.js';
import { mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();
const ops = testOps(gpu.device);
const hasF16 = gpu.device.features.has('shader-f16');
/**
 * The half-precision form checked here: native where the device has shader-f16 (lavapipe), else packed. The
 * suite runs this file on both adapters, so both forms are checked (vite.config.ts, test.projects).
 */
const halves: ('f16' | 'packed')[] = hasF16 ? ['f16'] : ['packed'];

type Case = MatmulCase;

const tiled = (form: MatmulForm, vec4: boolean, half: 'f16' | 'packed', bm = 32, bn = 32, depth = 8, tr = 4, tc = 4): MatmulVariant => ({
  form, vec4, tileRows: tr, tileCols: tc, workgroupSize: (bm / tr) * (bn / tc), tiled: { blockRows: bm, blockCols: bn, depth }, half,
});

/** C as float64 from the f32 inputs, and Σ|a·b| per element: the scale of the f16 rounding error. */
function reference(form: MatmulForm, c: Case, inputs: ReturnType<typeof matmulInputs>): { want: Float64Array; scale: Float64Array } {
  const a = Array.from(inputs.aSeen);
  const b = inputs.b;
  const want = new Float64Array(c.M * c.N);
  const scale = new Float64Array(c.M * c.N);
  const product = form === 'nn' ? ref.matmulNN : form === 'nt' ? ref.matmulNT : ref.matmulTN;
  product(want, a, b, c.M, c.N, c.K);
  product(scale, a.map(Math.abs), Float32Array.from(b, Math.abs), c.M, c.N, c.K);
  return { want: epilogueReference(want, c, inputs), scale };
}

/** Runs a half-precision variant; every element within the f16 bound, and (so the halves are real) not all f32-exact. */
async function check(v: MatmulVariant, c: Case, seed: number): Promise<void> {
  const inputs = matmulInputs(c, seed);
  const { want, scale } = reference(v.form, c, inputs);
  await withErrorScope(gpu.device, async () => {
    const { got, label } = await runMatmul(gpu.device, ops, v, c, inputs);
    let worst = 0;
    let inexact = 0;
    for (let i = 0; i < got.length; i++) {
      // Each input rounded to f16 is off by at most 2⁻¹¹ of itself, so each product by about 2⁻¹⁰: the sum of
      // the |a·b| bounds the error (2⁻⁹ leaves room for a rounding mode other than to nearest); f32 adds 1e-5.
      const bound = 2 ** -9 * scale[i] + 1e-5;
      worst = Math.max(worst, Math.abs(got[i] - want[i]) / bound);
      if (Math.abs(got[i] - want[i]) > 1e-5 * (1 + scale[i])) inexact++;
    }
    expect(worst, `${label}: worst error / f16 bound`).toBeLessThanOrEqual(1);
    if (c.K >= 8 && !c.inputU8) expect(inexact, `${label}: the inputs were rounded to f16`).toBeGreaterThan(0);
  });
}

const odd: Case[] = [{ M: 37, N: 41, K: 29 }, { M: 65, N: 33, K: 130 }, { M: 3, N: 70, K: 9 }];

describe('half-precision slices in the tiled matmul', () => {
  it.each(['nn', 'nt', 'tn'] as MatmulForm[])('%s, scalar loads, odd shapes, within the f16 bound of float64', async (form) => {
    for (const half of halves) for (const [i, c] of odd.entries()) await check(tiled(form, false, half), c, 10 + i);
  });

  it('vec4 loads, bigger blocks, u8 pixels and fused epilogues', async () => {
    for (const half of halves) {
      await check(tiled('nn', true, half, 64, 64, 8, 8, 8), { M: 70, N: 132, K: 100, ...BIAS_RELU }, 3);
      await check(tiled('nn', true, half, 64, 32, 16, 4, 8), { M: 45, N: 20, K: 784, inputU8: true, epilogue: 'bias' }, 4);
      await check(tiled('nt', true, half), { M: 50, N: 33, K: 64, ...RELU_BACKWARD }, 5);
      await check(tiled('tn', true, half, 32, 64, 8, 4, 8), { M: 36, N: 68, K: 77 }, 6);
      await check(tiled('tn', false, half), { M: 31, N: 19, K: 128, inputU8: true }, 7);
    }
  });

  it('half the workgroup memory, names that parse back, and the native form declares f16', () => {
    const f32 = { ...tiled('nn', true, 'f16', 128, 128, 8, 8, 8) };
    delete (f32 as Partial<MatmulVariant>).half;
    for (const half of ['f16', 'packed'] as const) {
      const v = tiled('nn', true, half, 128, 128, 8, 8, 8);
      expect(parseMatmulVariant(matmulVariantName(v))).toEqual(v);
    }
    expect(matmulVariantName(tiled('tn', true, 'f16'))).toMatch(/-f16$/);
    const shape = { M: 256, N: 512, K: 784 };
    const native = matmulShader(tiled('nn', true, 'f16', 128, 128, 8, 8, 8), shape);
    expect(native.trimStart().startsWith('enable f16;')).toBe(true);
    expect(native).toContain('array<vec4<f16>,');
    expect(native).not.toContain('pack2x16float');
    const packed = matmulShader(tiled('nn', true, 'packed', 128, 128, 8, 8, 8), shape);
    expect(packed).not.toContain('f16');
    expect(packed).toContain('array<vec2u,');
    // A 128×128×8 block in halves fits WebGPU's default 16 KiB; in f32 it does not.
    expect(matmulWorkgroupBytes(f32)).toBeGreaterThan(16_384);
    expect(matmulWorkgroupBytes(tiled('nn', true, 'f16', 128, 128, 8, 8, 8))).toBe(matmulWorkgroupBytes(f32) / 2);
  });

  it('halfPrecisionVariants halves the tiled candidates only', () => {
    const half = halfPrecisionVariants(GPU_VARIANTS);
    for (const form of ['nn', 'nt', 'tn'] as MatmulForm[]) {
      half.matmul[form].forEach((v, i) => {
        const before = GPU_VARIANTS.matmul[form][i];
        expect(v.half, matmulVariantName(before)).toBe(before.tiled && before.transpose !== 'scalars' ? 'f16' : undefined);
      });
    }
    expect(halfPrecisionVariants(DEFAULT_VARIANTS).matmul).toEqual(DEFAULT_VARIANTS.matmul);
  });
});

describe('precision f16 on a device without shader-f16', () => {
  it('is refused by name, before anything is allocated', async () => {
    // A device opened without the feature, on whichever adapter this is (openDevice asks for it where it exists).
    const { device } = await openTestDevice({ features: [] });
    expect(device.features.has('shader-f16')).toBe(false);
    const before = liveBuffers(device).count;
    let error: unknown;
    try {
      new Model(device, { ...mlpOptions([784, 64, 10]), precision: 'f16' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingFeatureError);
    expect((error as MissingFeatureError).feature).toBe('shader-f16');
    expect((error as Error).message).toMatch(new RegExp(`precision 'f16' needs the WebGPU feature shader-f16, which the device on ${gpu.adapterInfo.vendor} / ${gpu.adapterInfo.architecture} lacks`));
    expect(liveBuffers(device).count).toBe(before);
    expect(() => new Model(device, { precision: 'bf16' as never })).toThrow(/precision must be one of f32, f16, got "bf16"/);
  });

  it('train and bench --precision f16 on SwiftShader (no shader-f16) stop before any work with one line naming the feature; a bad value is a usage error', () => {
    for (const cli of ['train', 'bench']) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', `src/cli/${cli}.ts`, '--adapter', 'swiftshader', '--precision', 'f16', '--limit', '100'].filter((a) => cli === 'train' || a !== '--limit' && a !== '100'), { encoding: 'utf8', timeout: 120_000 });
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${cli}: precision 'f16' needs the WebGPU feature shader-f16, which the device on google / swiftshader`))]);
    }
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', '--precision', 'bf16'], { encoding: 'utf8', timeout: 60_000 });
    expect([bad.status, bad.stderr.trim()]).toEqual([2, "train: --precision must be one of f32, f16, got 'bf16'"]);
  });

  it('a model on half-precision kernels trains to the accuracy of its f32 twin', async () => {
    const mnist = loadMnist();
    const train = sliceDataset(mnist.train, 0, 1024, 'train');
    const test = sliceDataset(mnist.test, 0, 500, 'test');
    const accuracy: Record<string, number> = {};
    // Tiled kernels for every product (GPU_VARIANTS would take reduceK and register tiles for shapes this small).
    const f32 = { ...DEFAULT_VARIANTS, matmul: { nn: [tiled('nn', false, 'packed')], nt: [tiled('nt', false, 'packed')], tn: [tiled('tn', false, 'packed')] } };
    for (const form of ['nn', 'nt', 'tn'] as const) delete f32.matmul[form][0].half;
    // Where the device has shader-f16, precision 'f16' itself (native halves); else the packed halves.
    const twins: { name: 'f32' | 'packed' | 'f16'; variants: typeof f32; precision: 'f32' | 'f16' }[] = [
      { name: 'f32', variants: f32, precision: 'f32' },
      hasF16 ? { name: 'f16', variants: f32, precision: 'f16' } : { name: 'packed', variants: halfPrecisionVariants(f32, 'packed'), precision: 'f32' },
    ];
    for (const { name, variants, precision } of twins) {
      const model = new Model(gpu.device, { ...mlpOptions([784, 64, 10]), seed: 1, pixelMean: 0.1307, pixelStd: 0.3081, precision, variants: { ...variants, stepsPerSubmit: 1, gpuResidentData: false } });
      // Every product of the step runs on a tiled kernel, in halves for the f16 twins.
      const labels = modelInternals(model).plan('train', 64).forward.concat(modelInternals(model).plan('train', 64).backward).map((d) => d.label).filter((l) => l.startsWith('matmul'));
      expect(labels.length).toBeGreaterThanOrEqual(3);
      const pattern = { f32: /tiled(?!.*f16)/, packed: /tiled.*-f16packed/, f16: /tiled.*-f16(?!packed)/ }[name];
      for (const label of labels) expect(label, name).toMatch(pattern);
      await model.fit(train, { epochs: 2, batchSize: 64, optimizer: { kind: 'adam', lr: 2e-3 } });
      accuracy[name] = (await model.evaluate(test)).accuracy;
      model.dispose();
    }
    console.log('accuracy', accuracy);
    expect(accuracy.f32).toBeGreaterThan(0.8);
    expect(Object.keys(accuracy)).toEqual(hasF16 ? ['f32', 'f16'] : ['f32', 'packed']);
    for (const name of Object.keys(accuracy)) expect(Math.abs(accuracy[name] - accuracy.f32), name).toBeLessThanOrEqual(0.02);
  });
});
