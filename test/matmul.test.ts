// Every matmul form and variant family against the float64 reference, on odd shapes and the MLP's own shapes.
import { describe, expect, it } from 'vitest';
import { matmulShader, matmulTiles, matmulUnsupported, matmulVariantName, parseMatmulVariant, type MatmulForm, type MatmulVariant } from '../shaders/matmul.js';
import { readFloats, storageBuffer } from '../src/gpu/buffers.js';
import * as ref from '../src/reference/ops.js';
import { matmulCandidates } from '../src/tuning/matmulVariants.js';
import { DEFAULT_VARIANTS, LAVAPIPE_VARIANTS, quickMatmulTwin } from '../src/gpu/variants.js';
import { PipelineCache } from '../src/gpu/dispatch.js';
import { Ops } from '../src/gpu/ops.js';
import { expectClose, gpuArray, openTestDevice, runDispatches, testOps, withErrorScope } from './helpers/gpu.js';
import { activationNamed, BIAS_RELU, epilogueReference, matmulInputs, RELU_BACKWARD, runMatmul, type MatmulCase } from './helpers/matmul.js';

const gpu = await openTestDevice();
const ops = testOps(gpu.device);

type Case = MatmulCase;

function reference(form: MatmulForm, c: Case, inputs: ReturnType<typeof matmulInputs>): Float64Array<ArrayBufferLike> {
  const out = new Float64Array(c.M * c.N);
  const aArr = Array.from(inputs.aSeen);
  if (form === 'nn') ref.matmulNN(out, aArr, inputs.b, c.M, c.N, c.K);
  if (form === 'nt') ref.matmulNT(out, aArr, inputs.b, c.M, c.N, c.K);
  if (form === 'tn') ref.matmulTN(out, aArr, inputs.b, c.M, c.N, c.K);
  return epilogueReference(out, c, inputs);
}

async function check(v: MatmulVariant, c: Case, seed: number): Promise<void> {
  const inputs = matmulInputs(c, seed);
  const want = reference(v.form, c, inputs);
  await withErrorScope(gpu.device, async () => {
    const { got, label } = await runMatmul(gpu.device, ops, v, c, inputs);
    expectClose(got, want, 1e-5, 1e-4, label);
  });
}

const scalar = (form: MatmulForm, tileRows: number, tileCols: number): MatmulVariant => ({ form, vec4: false, tileRows, tileCols, workgroupSize: 64 });
const vec4 = (form: MatmulForm, tileRows: number, tileCols: number): MatmulVariant => ({ form, vec4: true, tileRows, tileCols, workgroupSize: 64 });
const tiled = (form: MatmulForm, vec: boolean, blockRows: number, blockCols: number, depth: number, tileRows: number, tileCols: number): MatmulVariant => ({
  form, vec4: vec, tileRows, tileCols, workgroupSize: (blockRows / tileRows) * (blockCols / tileCols), tiled: { blockRows, blockCols, depth },
});

const oddShapes: Case[] = [
  { M: 1, N: 1, K: 1 },
  { M: 37, N: 129, K: 13 },
  { M: 129, N: 37, K: 65 },
  { M: 10, N: 3, K: 500 },
];

describe.each(['nn', 'nt', 'tn'] as MatmulForm[])('matmul %s', (form) => {
  it.each([[1, 1], [4, 4], [3, 5]])('scalar %i×%i tiles, odd shapes', async (tr, tc) => {
    for (const [i, c] of oddShapes.entries()) await check(scalar(form, tr, tc), c, i);
  });

  // Blocks smaller than the shape, so several workgroups and several k slices (with a tail) are exercised.
  it.each([[16, 16, 4, 4, 4], [16, 32, 12, 4, 8]])('tiled, scalar loads, %i×%i×%i blocks of %i×%i, odd shapes', async (bm, bn, depth, tr, tc) => {
    const v = tiled(form, false, bm, bn, depth, tr, tc);
    for (const [i, c] of [...oddShapes, { M: 70, N: 45, K: 33 }].entries()) await check(v, c, 20 + i);
  });

  it('tiled, vec4 loads, odd in the dimensions it does not vectorize', async () => {
    const v = tiled(form, true, 32, 32, 8, 4, 8);
    const c: Case = form === 'nn' ? { M: 37, N: 132, K: 20 } : form === 'nt' ? { M: 37, N: 29, K: 20 } : { M: 36, N: 132, K: 13 };
    await check(v, c, 40);
    // Several blocks each way, a k tail, and the long K of the output layer.
    const big: Case = form === 'nn' ? { M: 129, N: 68, K: 500 } : form === 'nt' ? { M: 129, N: 67, K: 500 } : { M: 132, N: 68, K: 37 };
    await check(tiled(form, true, 64, 64, 16, 8, 8), big, 41);
    // nn and nt transpose a slice on its way into workgroup memory; the other way to do it, lane by lane.
    if (form !== 'tn') {
      await check({ ...tiled(form, true, 32, 32, 8, 4, 8), transpose: 'scalars' }, c, 42);
      await check({ ...tiled(form, false, 16, 32, 12, 4, 8), transpose: 'scalars' }, { M: 70, N: 45, K: 33 }, 43);
    }
  });

  it.each([[1, 1, 64], [2, 5, 32], [4, 4, 16], [3, 2, 2]])('reduceK, %i×%i tiles, %i invocations splitting K, odd shapes', async (tr, tc, wg) => {
    const v: MatmulVariant = { ...scalar(form, tr, tc), workgroupSize: wg, reduceK: true };
    for (const [i, c] of [...oddShapes, { M: 129, N: 10, K: 500 }].entries()) await check(v, c, 50 + i);
  });

  // vec4 needs multiples of 4 only in the dimensions it vectorizes; the others stay odd.
  const vecShape: Case = form === 'nn' ? { M: 37, N: 132, K: 20 } : form === 'nt' ? { M: 37, N: 29, K: 20 } : { M: 36, N: 132, K: 13 };
  it.each([[4, 4], [8, 8], [4, 8]])('vec4 %i×%i tiles', async (tr, tc) => {
    await check(vec4(form, tr, tc), vecShape, 7);
  });

  if (form === 'tn') {
    it.each([2, 4])('vec4 16×8 tiles, k unrolled by %i, with a tail (K = 13)', async (kUnroll) => {
      await check({ ...vec4(form, 16, 8), kUnroll }, { M: 36, N: 132, K: 13 }, 8);
      await check({ ...vec4(form, 16, 8), kUnroll }, { M: 28, N: 8, K: 5, inputU8: true }, 9);
    });
  }

  it('refuses shapes its vec4 variant cannot run, with the reason', () => {
    const bad = { M: 37, N: 37, K: 37 };
    expect(matmulUnsupported(vec4(form, 4, 4), bad)).toMatch(/multiples? of 4/);
    expect(() => matmulShader(vec4(form, 4, 4), bad)).toThrow(/cannot run M=37 N=37 K=37/);
  });
});

describe('matmul variant names', () => {
  it.each(['nn', 'nt', 'tn'] as MatmulForm[])('name every %s candidate uniquely and parse back to it', (form) => {
    const names = matmulCandidates(form).map(matmulVariantName);
    expect(new Set(names).size).toBe(names.length);
    for (const v of matmulCandidates(form)) expect(parseMatmulVariant(matmulVariantName(v))).toEqual(v);
  });
});

describe('matmul epilogues and u8 input', () => {
  it.each([{ epilogue: 'bias' }, BIAS_RELU] as Partial<Case>[])('nn with %o, scalar and vec4', async (epilogue) => {
    await check(scalar('nn', 4, 4), { M: 37, N: 29, K: 13, ...epilogue }, 3);
    await check(vec4('nn', 8, 8), { M: 37, N: 28, K: 12, ...epilogue }, 4);
  });

  // Any activation fuses: its forward after the bias (nn), its backward on the product (nt), per lane of a vec4
  // C, reading y (tanh, sigmoid) or x (gelu, leakyrelu) as its expression does.
  it.each(['tanh', 'sigmoid', 'gelu', 'leakyrelu:0.2'])('%s as bias+activation (nn) and backward (nt), register and tiled, scalar and vec4', async (activation) => {
    const small = (form: MatmulForm, vec: boolean) => tiled(form, vec, 16, 16, 8, 4, 4);
    for (const [v, seed] of [[scalar('nn', 4, 4), 70], [vec4('nn', 8, 8), 71], [small('nn', true), 72]] as const) {
      await check(v, { M: 37, N: 28, K: 12, epilogue: 'biasActivation', activation: activationNamed(activation).op }, seed);
    }
    for (const [v, seed] of [[scalar('nt', 4, 4), 73], [vec4('nt', 4, 4), 74], [small('nt', true), 75]] as const) {
      await check(v, { M: 37, N: 28, K: 12, epilogue: 'activationBackward', activation: activationNamed(activation).op }, seed);
    }
  });

  it('nt with the ReLU backward, scalar and vec4', async () => {
    await check(scalar('nt', 4, 4), { M: 37, N: 29, K: 10, ...RELU_BACKWARD }, 5);
    await check(vec4('nt', 4, 4), { M: 37, N: 29, K: 12, ...RELU_BACKWARD }, 6);
  });

  it('tiled variants fuse epilogues and read u8 pixels too, scalar and vec4', async () => {
    const small = (form: MatmulForm, vec: boolean) => tiled(form, vec, 16, 16, 8, 4, 4);
    await check(small('nn', false), { M: 37, N: 29, K: 13, ...BIAS_RELU }, 30);
    await check(small('nn', true), { M: 37, N: 28, K: 12, epilogue: 'bias' }, 34);
    await check(small('nt', false), { M: 37, N: 29, K: 10, ...RELU_BACKWARD }, 31);
    await check(small('nt', true), { M: 37, N: 28, K: 12, ...RELU_BACKWARD }, 35);
    await check(small('nn', false), { M: 5, N: 7, K: 27, inputU8: true }, 32);
    await check(small('nn', true), { M: 37, N: 12, K: 28, inputU8: true, ...BIAS_RELU }, 36);
    await check(small('tn', false), { M: 27, N: 7, K: 5, inputU8: true }, 33);
    await check(small('tn', true), { M: 28, N: 8, K: 37, inputU8: true }, 37);
    await check({ ...small('nn', true), transpose: 'scalars' }, { M: 37, N: 12, K: 28, inputU8: true, ...BIAS_RELU }, 38);
    await check({ ...small('nt', true), transpose: 'scalars' }, { M: 37, N: 28, K: 12, ...RELU_BACKWARD }, 39);
  });

  it('reduceK variants fuse epilogues and read u8 pixels too', async () => {
    const rk = (form: MatmulForm): MatmulVariant => ({ ...scalar(form, 2, 5), workgroupSize: 32, reduceK: true });
    await check(rk('nn'), { M: 37, N: 10, K: 500, epilogue: 'bias' }, 60);
    await check(rk('nn'), { M: 37, N: 29, K: 13, ...BIAS_RELU }, 61);
    await check(rk('nt'), { M: 37, N: 29, K: 10, ...RELU_BACKWARD }, 62);
    await check(rk('nn'), { M: 5, N: 7, K: 27, inputU8: true }, 63);
    await check(rk('tn'), { M: 27, N: 7, K: 37, inputU8: true }, 64);
  });

  it('reads packed u8 pixels as x/255 (nn and tn, scalar and vec4)', async () => {
    await check(scalar('nn', 4, 4), { M: 5, N: 7, K: 27, inputU8: true }, 8);
    await check(vec4('nn', 8, 8), { M: 5, N: 8, K: 28, inputU8: true }, 9);
    await check(scalar('tn', 4, 4), { M: 27, N: 7, K: 5, inputU8: true }, 10);
    await check(vec4('tn', 8, 8), { M: 28, N: 8, K: 5, inputU8: true }, 11);
  });
});

describe('matmul at the MLP shapes, default variants', () => {
  it.each([
    ['nn', { M: 128, N: 500, K: 784, inputU8: true, ...BIAS_RELU }],
    ['nn', { M: 128, N: 10, K: 500, epilogue: 'bias' }],
    ['tn', { M: 784, N: 500, K: 128, inputU8: true }],
    ['tn', { M: 500, N: 10, K: 128 }],
    ['nt', { M: 128, N: 500, K: 10, ...RELU_BACKWARD }],
  ] as [MatmulForm, Case][])('%s %o', async (form, c) => {
    const variant = ops.choices.matmul[form].find((v) => matmulUnsupported(v, c) === null)!;
    await check(variant, c, 12);
  });
});

// A chosen register variant starts on its quick twin while it compiles (Ops.matmul): the switch may come at any
// step, so the two must give the same bits, not just close ones.
describe('quick twins', () => {
  const cases: [MatmulVariant, Case][] = [
    [vec4('nn', 16, 8), { M: 37, N: 132, K: 13 * 4, ...BIAS_RELU, inputU8: true }],
    [vec4('nn', 16, 8), { M: 129, N: 36, K: 500, epilogue: 'bias' }],
    [{ ...vec4('tn', 16, 8), kUnroll: 4 }, { M: 36, N: 132, K: 129, inputU8: true }],
    [{ ...vec4('tn', 8, 8), kUnroll: 4 }, { M: 44, N: 20, K: 37 }],
    [scalar('nn', 8, 4), { M: 37, N: 10, K: 65, epilogue: 'bias' }],
    [scalar('tn', 8, 4), { M: 65, N: 10, K: 37 }],
    [scalar('nt', 8, 4), { M: 37, N: 29, K: 10, ...RELU_BACKWARD }],
    [vec4('nt', 8, 8), { M: 37, N: 29, K: 12 }],
  ];

  it.each(cases)('%o on %o: the twin computes the same bits', async (v, c) => {
    const twin = quickMatmulTwin(v, c);
    expect(twin, matmulVariantName(v)).not.toBeNull();
    expect(twin!.tileRows * twin!.tileCols).toBeLessThan(v.tileRows * v.tileCols);
    const inputs = matmulInputs(c, 70);
    const full = await runMatmul(gpu.device, ops, v, c, inputs);
    const quick = await runMatmul(gpu.device, ops, twin!, c, inputs);
    expect(new Uint32Array(quick.got.buffer)).toEqual(new Uint32Array(full.got.buffer));
  });

  it('workgroup tiles, K split across a workgroup and small tiles have no twin', () => {
    const c = { M: 64, N: 64, K: 64 };
    expect(quickMatmulTwin(tiled('nn', true, 32, 32, 8, 4, 4), c)).toBeNull();
    expect(quickMatmulTwin({ ...scalar('nn', 2, 2), reduceK: true }, c)).toBeNull();
    expect(quickMatmulTwin(vec4('nn', 4, 4), c)).toBeNull();
  });

  it('a chosen variant runs its twin until the full kernel compiles, then the full kernel, with one bind group', async () => {
    const { device } = gpu;
    // A shape no other test compiles, so the full kernel is not in the device's cache yet.
    const c: Case = { M: 41, N: 124, K: 84, epilogue: 'none' };
    const inputs = matmulInputs(c, 71);
    const out = storageBuffer(device, c.M * c.N * 4, 'C');
    const dispatch = ops.matmul('nn', { buffer: out }, { buffer: gpuArray(device, inputs.aFloat) }, { buffer: gpuArray(device, inputs.b) }, c.M, c.N, c.K);
    const chosen = parseMatmulVariant(dispatch.label.split(' ')[2]!)!;
    const twin = quickMatmulTwin(chosen, c)!;
    expect(dispatch.workgroups).toEqual([Math.ceil(matmulTiles(twin, c) / twin.workgroupSize), 1]);
    const bindGroup = dispatch.bindGroup;
    await runDispatches(device, [dispatch]);
    const early = await readFloats(device, out, 0, c.M * c.N);
    await ops.cache.settled();
    expect(dispatch.workgroups).toEqual([Math.ceil(matmulTiles(chosen, c) / chosen.workgroupSize), 1]);
    expect(dispatch.bindGroup).toBe(bindGroup);
    await runDispatches(device, [dispatch]);
    const late = await readFloats(device, out, 0, c.M * c.N);
    expect(new Uint32Array(late.buffer)).toEqual(new Uint32Array(early.buffer));
    expectClose(late, reference('nn', c, inputs), 1e-5, 1e-4, dispatch.label);
  });
  it('choices without quick twins (lavapipe\'s defaults) dispatch the full kernel from the start and compile nothing behind it', async () => {
    expect(LAVAPIPE_VARIANTS.quickTwins).toBe(false);
    const { device } = gpu;
    const cache = new PipelineCache(device);
    const noTwins = new Ops(cache, { ...DEFAULT_VARIANTS, quickTwins: false });
    // Another shape no other test compiles, whose chosen variant has a twin.
    const c: Case = { M: 43, N: 116, K: 76, epilogue: 'none' };
    const inputs = matmulInputs(c, 73);
    const out = storageBuffer(device, c.M * c.N * 4, 'C');
    const dispatch = noTwins.matmul('nn', { buffer: out }, { buffer: gpuArray(device, inputs.aFloat) }, { buffer: gpuArray(device, inputs.b) }, c.M, c.N, c.K);
    const chosen = parseMatmulVariant(dispatch.label.split(' ')[2]!)!;
    expect(quickMatmulTwin(chosen, c), 'the chosen variant has a twin the choices decline').not.toBeNull();
    expect(dispatch.workgroups).toEqual([Math.ceil(matmulTiles(chosen, c) / chosen.workgroupSize), 1]);
    expect(cache.compiled).toMatchObject({ count: 1, background: 0 });
    await runDispatches(device, [dispatch]);
    expectClose(await readFloats(device, out, 0, c.M * c.N), reference('nn', c, inputs), 1e-5, 1e-4, dispatch.label);
    await cache.settled();
    expect(cache.compiled.background).toBe(0);
  });
});
