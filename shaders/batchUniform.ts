// The per-step Batch uniform, read by gatherBatch and softmaxCrossEntropy: the rows present in this batch
// (≤ the plan's capacity; a short last batch has fewer), 1/rows for the mean loss gradient, and where the batch
// starts in the epoch's order of training images. Its WGSL struct and its packer live here only.
import type { UniformWords } from './bindings.js';

export const BATCH_UNIFORM_BYTES = 16;

export const BATCH_STRUCT = 'struct Batch { rows: u32, invRows: f32, start: u32 }';

/** Packs struct Batch into `w` (≥ BATCH_UNIFORM_BYTES) and returns its bytes. */
export function packBatchUniform(w: UniformWords, rows: number, start = 0): ArrayBuffer {
  w.u32[0] = rows;
  w.f32[1] = 1 / rows;
  w.u32[2] = start;
  w.u32[3] = 0;
  return w.buffer;
}
