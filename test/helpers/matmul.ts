// One matmul case's inputs and its run on the GPU, shared by the f32 and the half-precision matmul tests.
import type { MatmulEpilogue, MatmulVariant } from '../../shaders/matmul.js';
import { readFloats, storageBuffer } from '../../src/gpu/buffers.js';
import type { Ops } from '../../src/gpu/ops.js';
import { gpuArray, randomArray, runDispatches } from './gpu.js';

export interface MatmulCase { M: number; N: number; K: number; epilogue?: MatmulEpilogue; inputU8?: boolean }

/** Seeded inputs of a case: A as f32 or as u8 pixels (`aSeen`: what the kernel must read, byte/255), B, and the bias or mask. */
export function matmulInputs(c: MatmulCase, seed: number) {
  const aCount = c.M * c.K;
  const b = randomArray(c.N * c.K, seed + 1);
  const extra = randomArray(c.epilogue === 'reluMask' ? c.M * c.N : c.N, seed + 2);
  const bytes = new Uint8Array(Math.ceil(aCount / 4) * 4);
  for (let i = 0; i < aCount; i++) bytes[i] = (i * 37 + seed * 11) % 256;
  const aFloat = randomArray(aCount, seed);
  const aSeen: ArrayLike<number> = c.inputU8 ? Array.from(bytes.subarray(0, aCount), (x) => x / 255) : aFloat;
  return { aFloat, bytes, aSeen, b, extra };
}

/** Runs variant `v` on the case's inputs; C as read back, and the dispatch's label. */
export async function runMatmul(device: GPUDevice, ops: Ops, v: MatmulVariant, c: MatmulCase, inputs: ReturnType<typeof matmulInputs>) {
  const aBuf = c.inputU8 ? gpuArray(device, new Uint32Array(inputs.bytes.buffer)) : gpuArray(device, inputs.aFloat);
  const out = storageBuffer(device, c.M * c.N * 4, 'C');
  const epilogue = c.epilogue ?? 'none';
  const dispatch = ops.matmul(v.form, { buffer: out }, { buffer: aBuf }, { buffer: gpuArray(device, inputs.b) }, c.M, c.N, c.K, {
    variant: v, epilogue, inputU8: c.inputU8,
    extra: epilogue === 'none' ? undefined : { buffer: gpuArray(device, inputs.extra) },
  });
  await runDispatches(device, [dispatch]);
  return { got: await readFloats(device, out, 0, c.M * c.N), label: dispatch.label };
}
