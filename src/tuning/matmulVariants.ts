// Matmul variants side by side for one shape: each is first checked against the float64 reference, then timed.
// The core of both the benchmark (every variant, full timing) and the autotuner (a time budget per shape, and a
// candidate clearly slower than the best so far is not timed further).
import {
  matmulExceedsDevice, matmulFamily, matmulUnsupported, matmulVariantName,
  type MatmulFamily, type MatmulForm, type MatmulShape, type MatmulVariant,
} from '../../shaders/matmul.js';
import { readFloats, storageBuffer } from '../gpu/buffers.js';
import { encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import type { Ops } from '../gpu/ops.js';
import { reduceKVariant, tiledVariant } from '../gpu/variants.js';
import { calibratedRepeats, timeDispatches, type Timing } from './timing.js';

export interface VariantResult {
  variant: string;
  family: MatmulFamily;
  verified: boolean;
  maxError: number;
  /** Outputs compared with the reference (all of them for small products, a sample for big ones). */
  checked: number;
  timing?: Timing;
  gflops?: number;
  speedup?: number;
  /** Timed once only: its first trial was already far slower than the best so far. */
  pruned?: boolean;
  /** Why it was not run: the device's limits, a GPU error, or the time budget. */
  skipped?: string;
}

const scalarV = (form: MatmulForm, r: number, c: number, wg = 64): MatmulVariant => ({ form, vec4: false, tileRows: r, tileCols: c, workgroupSize: wg });
const vec4V = (form: MatmulForm, r: number, c: number, wg = 64): MatmulVariant => ({ form, vec4: true, tileRows: r, tileCols: c, workgroupSize: wg });

/** The candidates compared per form; the first is the one-invocation-per-output baseline. */
export function matmulCandidates(form: MatmulForm): MatmulVariant[] {
  return [
    scalarV(form, 1, 1), scalarV(form, 4, 4), scalarV(form, 8, 4),
    vec4V(form, 4, 4), vec4V(form, 8, 4), vec4V(form, 4, 8), vec4V(form, 8, 8), vec4V(form, 8, 8, 32), vec4V(form, 8, 8, 128), vec4V(form, 16, 8),
    ...(form === 'tn' ? [{ ...vec4V(form, 8, 8), kUnroll: 4 }, { ...vec4V(form, 16, 8), kUnroll: 4 }, { ...vec4V(form, 16, 8), kUnroll: 2 }] : [vec4V(form, 16, 4), vec4V(form, 12, 8)]),
    // Workgroup tiles: big blocks for big products, small ones where a big block would leave SMs idle.
    tiledVariant(form, true, 128, 128, 8, 8, 8), tiledVariant(form, true, 128, 64, 8, 8, 8), tiledVariant(form, true, 64, 128, 8, 8, 8),
    tiledVariant(form, true, 64, 64, 8, 8, 8), tiledVariant(form, true, 64, 64, 16, 4, 4), tiledVariant(form, true, 64, 64, 8, 4, 8),
    tiledVariant(form, true, 32, 32, 8, 4, 4), tiledVariant(form, false, 64, 64, 16, 4, 4),
    // nn and nt transpose a slice into workgroup memory: also lane by lane (see shaders/matmulTiled.ts).
    ...(form === 'tn' ? [] : [{ ...tiledVariant(form, true, 32, 32, 8, 4, 4), transpose: 'scalars' as const }, { ...tiledVariant(form, true, 128, 128, 8, 8, 8), transpose: 'scalars' as const }]),
    // K split across a workgroup, for few outputs over a long K.
    reduceKVariant(form, 1, 1, 64), reduceKVariant(form, 1, 1, 128), reduceKVariant(form, 1, 2, 64), reduceKVariant(form, 2, 2, 64),
    reduceKVariant(form, 4, 2, 32), reduceKVariant(form, 1, 10, 32), reduceKVariant(form, 4, 4, 32),
  ];
}

/** One or two candidates of each family, for a quick look (the demo's quick bench); the first is the baseline. */
export function quickMatmulCandidates(form: MatmulForm): MatmulVariant[] {
  return [
    scalarV(form, 1, 1), scalarV(form, 4, 4), vec4V(form, 8, 8), vec4V(form, 16, 8),
    tiledVariant(form, true, 32, 32, 8, 4, 4), tiledVariant(form, false, 64, 64, 16, 4, 4),
    // nn and nt transpose a slice into workgroup memory: also lane by lane (see shaders/matmulTiled.ts).
    ...(form === 'tn' ? [] : [{ ...tiledVariant(form, true, 32, 32, 8, 4, 4), transpose: 'scalars' as const }, { ...tiledVariant(form, true, 128, 128, 8, 8, 8), transpose: 'scalars' as const }]), reduceKVariant(form, 4, 4, 32),
  ];
}

function randomData(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; out[i] = s / 2 ** 31 - 1; }
  return out;
}

/** Which outputs to check: all of a small product; of a big one its four corners, its edges and a spread sample. */
function outputsToCheck(M: number, N: number, all = 1 << 16, sample = 4096): Uint32Array {
  if (M * N <= all) return Uint32Array.from({ length: M * N }, (_, i) => i);
  const picked = new Set<number>();
  for (const m of [0, M - 1]) for (let n = 0; n < N; n += Math.max(1, Math.floor(N / 64))) picked.add(m * N + n);
  for (const n of [0, N - 1]) for (let m = 0; m < M; m += Math.max(1, Math.floor(M / 64))) picked.add(m * N + n);
  picked.add(M * N - 1);
  let s = 12345;
  while (picked.size < sample) { s = (s * 1664525 + 1013904223) >>> 0; picked.add(s % (M * N)); }
  return Uint32Array.from([...picked].sort((x, y) => x - y));
}

/** Float64 reference of the chosen outputs, and the sum of |terms| of each (the scale of its rounding error). */
function referenceAt(form: MatmulForm, a: Float32Array, b: Float32Array, M: number, N: number, K: number, outputs: Uint32Array) {
  const want = new Float64Array(outputs.length);
  const scale = new Float64Array(outputs.length);
  outputs.forEach((o, i) => {
    const m = Math.floor(o / N);
    const n = o % N;
    let sum = 0;
    let abs = 0;
    for (let k = 0; k < K; k++) {
      const x = form === 'tn' ? a[k * M + m] : a[m * K + k];
      const y = form === 'nt' ? b[n * K + k] : b[k * N + n];
      sum += x * y;
      abs += Math.abs(x * y);
    }
    want[i] = sum;
    scale[i] = abs;
  });
  return { want, scale };
}

export interface CompareOptions {
  /** Short timing (autotuning): repeats for about 20 ms per trial, 3 trials. Otherwise ~300 ms, 5 trials. */
  quick?: boolean;
  /** Once this much wall time has gone to this shape, the remaining candidates are skipped (the first never is). */
  budgetMs?: number;
  /** A candidate whose first trial is this many times slower than the best median so far is not timed further. */
  pruneFactor?: number;
  /** Called as each result is ready. */
  onResult?: (r: VariantResult) => void;
}

export async function compareMatmulVariants(
  device: GPUDevice, ops: Ops, form: MatmulForm, shape: MatmulShape, variants = matmulCandidates(form), options: CompareOptions = {},
): Promise<VariantResult[]> {
  const started = performance.now();
  const { M, N, K } = shape;
  const u8 = Boolean(shape.inputU8);
  // With inputU8 the left operand is raw pixels packed four to a u32, which the kernel reads as byte/255.
  const pixels = new Uint8Array(Math.ceil((M * K) / 4) * 4).map((_, i) => (i * 97 + 13) % 256);
  const a = u8 ? Float32Array.from(pixels.subarray(0, M * K), (p) => p / 255) : randomData(M * K, 1);
  const b = randomData(N * K, 2);
  const outputs = outputsToCheck(M, N);
  const { want, scale } = referenceAt(form, a, b, M, N, K, outputs);
  const upload = (x: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>) => {
    const buf = storageBuffer(device, x.byteLength, 'bench');
    device.queue.writeBuffer(buf, 0, x);
    return buf;
  };
  const [aBuf, bBuf, out] = [upload(u8 ? new Uint32Array(pixels.buffer) : a), upload(b), storageBuffer(device, M * N * 4, 'C')];
  const flop = 2 * M * N * K;
  const results: VariantResult[] = [];
  let bestMs = Infinity;
  for (const v of variants.filter((x) => matmulUnsupported(x, shape) === null)) {
    const result: VariantResult = { variant: matmulVariantName(v), family: matmulFamily(v), verified: false, maxError: NaN, checked: 0 };
    const overBudget = results.length > 0 && options.budgetMs !== undefined && performance.now() - started > options.budgetMs;
    result.skipped = overBudget ? 'time budget' : matmulExceedsDevice(v, device.limits) ?? undefined;
    if (!result.skipped) await verifyAndTime(v, result);
    options.onResult?.(result);
    results.push(result);
  }
  const base = results[0]?.timing?.medianMs;
  for (const r of results) if (r.timing && base) r.speedup = base / r.timing.medianMs;
  for (const buf of [aBuf, bBuf, out]) buf.destroy();
  return results;

  async function verifyAndTime(v: MatmulVariant, result: VariantResult): Promise<void> {
    device.pushErrorScope('validation');
    const dispatch: Dispatch = ops.matmul(form, { buffer: out }, { buffer: aBuf }, { buffer: bBuf }, M, N, K, { variant: v, inputU8: u8 });
    device.queue.writeBuffer(out, 0, new Float32Array(M * N).fill(NaN));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeDispatches(pass, [dispatch]);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const got = await readFloats(device, out, 0, M * N);
    const error = await device.popErrorScope();
    if (error) {
      result.skipped = `GPU error: ${error.message.split('\n')[0]}`;
      return;
    }
    let maxError = 0;
    let verified = true;
    outputs.forEach((o, i) => {
      const err = Math.abs(got[o] - want[i]);
      if (!(err <= 1e-4 + 1e-5 * scale[i] + 1e-4 * Math.abs(want[i]))) verified = false;
      if (!(err <= maxError)) maxError = err;
    });
    Object.assign(result, { verified, maxError, checked: outputs.length });
    if (!verified) return;
    const repeats = await calibratedRepeats(device, [dispatch], options.quick ? 20 : 300);
    const first = await timeDispatches(device, [dispatch], repeats, 1);
    const prune = options.pruneFactor !== undefined && first.medianMs > options.pruneFactor * bestMs;
    result.timing = prune ? first : await timeDispatches(device, [dispatch], repeats, options.quick ? 3 : 5);
    result.pruned = prune || undefined;
    result.gflops = flop / (result.timing.medianMs * 1e6);
    bestMs = Math.min(bestMs, result.timing.medianMs);
  }
}
