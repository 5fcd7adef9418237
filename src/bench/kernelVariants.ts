// The other kernel families' variants side by side: the bias gradient (a column per invocation, or rows split
// across a workgroup), softmax-cross-entropy (one invocation or one workgroup per row) and the Adam update
// (scalar or vec4). Each is checked against the float64 reference, then timed.
import { BATCH_UNIFORM_BYTES, packBatchUniform } from '../../shaders/batchUniform.js';
import { biasGradUnsupported, biasGradVariantName, type BiasGradVariant } from '../../shaders/biasGrad.js';
import { UniformWords } from '../../shaders/bindings.js';
import { ADAM_UNIFORM_BYTES, packAdamUniform, type OptimizerVariant } from '../../shaders/optimizer.js';
import type { SoftmaxVariant } from '../../shaders/softmaxCrossEntropy.js';
import { readFloats, storageBuffer, uniformBuffer } from '../gpu/buffers.js';
import { encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import type { Ops } from '../gpu/ops.js';
import * as ref from '../reference/ops.js';
import { calibratedRepeats, timeDispatches, type Timing } from '../tuning/timing.js';

export interface KernelVariantResult {
  variant: string;
  verified: boolean;
  maxError: number;
  timing?: Timing;
  /** Bytes moved per run divided by time. */
  gbPerSecond?: number;
}

export const SOFTMAX_CANDIDATES: Omit<SoftmaxVariant, 'gradient'>[] = [
  { perRow: 'invocation', workgroupSize: 64 },
  { perRow: 'workgroup', workgroupSize: 32 },
  { perRow: 'workgroup', workgroupSize: 64 },
];

export const OPTIMIZER_CANDIDATES: OptimizerVariant[] = [
  { vec4: false, workgroupSize: 64 },
  { vec4: true, workgroupSize: 64 },
  { vec4: true, workgroupSize: 256 },
];

function pseudoRandom(n: number, seed: number, scale = 1): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; out[i] = scale * (s / 2 ** 31 - 1); }
  return out;
}

/** |got − want| ≤ atol + rtol·|want| (+ rtol·scale[i] where a sum's rounding grows with its terms). */
function maxError(got: Float32Array, want: ArrayLike<number>, atol: number, rtol: number, scale?: ArrayLike<number>): { verified: boolean; maxError: number } {
  let worst = 0;
  let verified = true;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= atol + rtol * (Math.abs(want[i]) + (scale ? scale[i] : 0)))) verified = false;
    if (!(err <= worst)) worst = err;
  }
  return { verified, maxError: worst };
}

async function runOnce(device: GPUDevice, dispatch: Dispatch): Promise<void> {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeDispatches(pass, [dispatch]);
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
}

async function timed(device: GPUDevice, dispatch: Dispatch, bytes: number, quick: boolean) {
  const timing = quick ? await timeDispatches(device, [dispatch], 2, 3) : await timeDispatches(device, [dispatch], await calibratedRepeats(device, [dispatch]));
  return { timing, gbPerSecond: bytes / (timing.medianMs * 1e6) };
}

export const BIAS_GRAD_CANDIDATES: BiasGradVariant[] = [
  { workgroupSize: 64, vec4: false }, { workgroupSize: 64, vec4: true },
  { workgroupSize: 64, vec4: true, reduceRows: true }, { workgroupSize: 256, vec4: true, reduceRows: true }, { workgroupSize: 256, vec4: false, reduceRows: true },
];

export async function compareBiasGradVariants(device: GPUDevice, ops: Ops, M: number, N: number, quick = false): Promise<KernelVariantResult[]> {
  const dY = pseudoRandom(M * N, 7);
  const want = new Float64Array(N);
  ref.biasGrad(want, dY, M, N);
  // Σ_m |dY[m, n]|: a float32 sum of M terms may be off by a few ulps of it (1,024 rows: ~1e-4 here).
  const scale = new Float64Array(N);
  ref.biasGrad(scale, dY.map(Math.abs), M, N);
  const input = storageBuffer(device, dY.byteLength, 'dY');
  device.queue.writeBuffer(input, 0, dY);
  const out = storageBuffer(device, N * 4, 'dBias');
  const results: KernelVariantResult[] = [];
  for (const v of BIAS_GRAD_CANDIDATES.filter((c) => biasGradUnsupported(c, M, N) === null)) {
    const dispatch = ops.biasGrad({ buffer: out }, { buffer: input }, M, N, v);
    await runOnce(device, dispatch);
    const check = maxError(await readFloats(device, out, 0, N), want, 1e-5, 1e-5, scale);
    results.push({ variant: biasGradVariantName(v), ...check, ...(check.verified ? await timed(device, dispatch, (M * N + N) * 4, quick) : {}) });
  }
  for (const b of [input, out]) b.destroy();
  return results;
}

export async function compareSoftmaxVariants(device: GPUDevice, ops: Ops, rows: number, classes: number, quick = false): Promise<KernelVariantResult[]> {
  const logits = pseudoRandom(rows * classes, 3, 5);
  const labels = Uint32Array.from({ length: rows }, (_, i) => (i * 7 + 1) % classes);
  const want = new Float64Array(rows * classes);
  ref.softmaxCrossEntropy(want, new Float64Array(rows), logits, labels, rows, classes);
  const upload = (x: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>) => {
    const b = storageBuffer(device, x.byteLength, 'bench');
    device.queue.writeBuffer(b, 0, x);
    return b;
  };
  const [zBuf, yBuf, dBuf, stats] = [upload(logits), upload(labels), storageBuffer(device, rows * classes * 4, 'dLogits'), storageBuffer(device, rows * 8, 'stats')];
  const batch = uniformBuffer(device, BATCH_UNIFORM_BYTES, 'batch');
  device.queue.writeBuffer(batch, 0, packBatchUniform(new UniformWords(BATCH_UNIFORM_BYTES), { rows }));
  const results: KernelVariantResult[] = [];
  for (const v of SOFTMAX_CANDIDATES) {
    const w = (buffer: GPUBuffer) => ({ buffer });
    const dispatch = ops.softmaxCrossEntropy(w(dBuf), w(stats), w(zBuf), w(yBuf), w(batch), rows, classes, v);
    await runOnce(device, dispatch);
    const check = maxError(await readFloats(device, dBuf, 0, rows * classes), want, 1e-6, 1e-4);
    const name = `per-${v.perRow}-wg${v.workgroupSize}`;
    results.push({ variant: name, ...check, ...(check.verified ? await timed(device, dispatch, rows * classes * 8, quick) : {}) });
  }
  for (const b of [zBuf, yBuf, dBuf, stats, batch]) b.destroy();
  return results;
}

export async function compareOptimizerVariants(device: GPUDevice, ops: Ops, length: number, quick = false, candidates = OPTIMIZER_CANDIDATES): Promise<KernelVariantResult[]> {
  const config: ref.AdamConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false };
  const p0 = pseudoRandom(length, 5);
  const grads = pseudoRandom(length, 6);
  const want = { p: Float64Array.from(p0), m: new Float64Array(length), v: new Float64Array(length) };
  ref.adamUpdate(want.p, want.m, want.v, grads, 1, config);
  const upload = (x: Float32Array<ArrayBuffer>) => {
    const b = storageBuffer(device, x.byteLength, 'bench');
    device.queue.writeBuffer(b, 0, x);
    return b;
  };
  const [params, gBuf, m1, m2] = [upload(p0), upload(grads), storageBuffer(device, length * 4, 'm1'), storageBuffer(device, length * 4, 'm2')];
  const uniform = uniformBuffer(device, ADAM_UNIFORM_BYTES, 'adam');
  device.queue.writeBuffer(uniform, 0, packAdamUniform(new UniformWords(ADAM_UNIFORM_BYTES), { ...config, step: 1 }));
  const results: KernelVariantResult[] = [];
  for (const v of candidates) {
    device.queue.writeBuffer(params, 0, p0);
    device.queue.writeBuffer(m1, 0, new Float32Array(length));
    device.queue.writeBuffer(m2, 0, new Float32Array(length));
    const w = (buffer: GPUBuffer) => ({ buffer });
    const dispatch = ops.adamUpdate(w(params), w(m1), w(m2), w(gBuf), w(uniform), length, v);
    await runOnce(device, dispatch);
    const check = maxError(await readFloats(device, params, 0, length), want.p, 1e-6, 1e-5);
    const name = `adamUpdate-${v.vec4 ? 'vec4' : 'scalar'}-wg${v.workgroupSize}`;
    // Timing repeats the update on the same buffers: the values drift, the memory traffic does not.
    results.push({ variant: name, ...check, ...(check.verified ? await timed(device, dispatch, length * 4 * 7, quick) : {}) });
  }
  for (const b of [params, gBuf, m1, m2, uniform]) b.destroy();
  return results;
}
