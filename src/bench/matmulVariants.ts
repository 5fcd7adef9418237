// Matmul variants side by side for one shape: each is first checked against the float64 reference, then timed.
import { matmulUnsupported, matmulVariantName, type MatmulForm, type MatmulShape, type MatmulVariant } from '../../shaders/matmul.js';
import { readFloats, storageBuffer } from '../engine/buffers.js';
import { encodeDispatches, type Dispatch } from '../engine/dispatch.js';
import type { Ops } from '../engine/ops.js';
import * as ref from '../reference/ops.js';
import { calibratedRepeats, timeDispatches, type Timing } from './timing.js';

export interface VariantResult {
  variant: string;
  verified: boolean;
  maxError: number;
  timing?: Timing;
  gflops?: number;
  speedup?: number;
}

const scalarV = (form: MatmulForm, r: number, c: number, wg = 64): MatmulVariant => ({ form, vec4: false, tileRows: r, tileCols: c, workgroupSize: wg });
const vec4V = (form: MatmulForm, r: number, c: number, wg = 64): MatmulVariant => ({ form, vec4: true, tileRows: r, tileCols: c, workgroupSize: wg });

/** The candidates compared per form; the first is the one-invocation-per-output baseline. */
export function matmulCandidates(form: MatmulForm): MatmulVariant[] {
  return [
    scalarV(form, 1, 1), scalarV(form, 4, 4), scalarV(form, 8, 4), { ...scalarV(form, 4, 4), staged: true },
    vec4V(form, 4, 4), vec4V(form, 8, 4), vec4V(form, 4, 8), vec4V(form, 8, 8), vec4V(form, 8, 8, 32), vec4V(form, 8, 8, 128), vec4V(form, 16, 8),
    ...(form === 'tn' ? [{ ...vec4V(form, 8, 8), kUnroll: 4 }, { ...vec4V(form, 16, 8), kUnroll: 4 }, { ...vec4V(form, 16, 8), kUnroll: 2 }] : [vec4V(form, 16, 4), vec4V(form, 12, 8)]),
  ];
}

function randomData(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; out[i] = s / 2 ** 31 - 1; }
  return out;
}

/** quick: one short timing per variant (autotuning); otherwise warm-up, calibrated repeats, median of 5. */
export async function compareMatmulVariants(
  device: GPUDevice, ops: Ops, form: MatmulForm, shape: MatmulShape, variants = matmulCandidates(form), options: { quick?: boolean } = {},
): Promise<VariantResult[]> {
  const { M, N, K } = shape;
  const u8 = Boolean(shape.inputU8);
  // With inputU8 the left operand is raw pixels packed four to a u32, which the kernel reads as byte/255.
  const pixels = new Uint8Array(Math.ceil((M * K) / 4) * 4).map((_, i) => (i * 97 + 13) % 256);
  const a = u8 ? Float32Array.from(pixels.subarray(0, M * K), (p) => p / 255) : randomData(M * K, 1);
  const b = randomData(N * K, 2);
  const want = new Float64Array(M * N);
  ({ nn: ref.matmulNN, nt: ref.matmulNT, tn: ref.matmulTN })[form](want, a, b, M, N, K);
  const upload = (x: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>) => {
    const buf = storageBuffer(device, x.byteLength, 'bench');
    device.queue.writeBuffer(buf, 0, x);
    return buf;
  };
  const [aBuf, bBuf, out] = [upload(u8 ? new Uint32Array(pixels.buffer) : a), upload(b), storageBuffer(device, M * N * 4, 'C')];
  const flop = 2 * M * N * K;
  const results: VariantResult[] = [];
  for (const v of variants.filter((x) => matmulUnsupported(x, shape) === null)) {
    const dispatch: Dispatch = ops.matmul(form, { buffer: out }, { buffer: aBuf }, { buffer: bBuf }, M, N, K, { variant: v, inputU8: u8 });
    device.queue.writeBuffer(out, 0, new Float32Array(M * N).fill(NaN));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeDispatches(pass, [dispatch]);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const got = await readFloats(device, out, 0, M * N);
    let maxError = 0;
    let verified = true;
    for (let i = 0; i < want.length; i++) {
      const err = Math.abs(got[i] - want[i]);
      if (!(err <= 1e-4 + 1e-4 * Math.abs(want[i]))) verified = false;
      if (!(err <= maxError)) maxError = err;
    }
    const result: VariantResult = { variant: matmulVariantName(v), verified, maxError };
    if (verified) {
      result.timing = options.quick
        ? await timeDispatches(device, [dispatch], 2, 3)
        : await timeDispatches(device, [dispatch], await calibratedRepeats(device, [dispatch]));
      result.gflops = flop / (result.timing.medianMs * 1e6);
    }
    results.push(result);
  }
  const base = results[0]?.timing?.medianMs;
  for (const r of results) if (r.timing && base) r.speedup = base / r.timing.medianMs;
  for (const buf of [aBuf, bBuf, out]) buf.destroy();
  return results;
}
