// The per-step Batch uniform, read by gatherBatch, softmaxCrossEntropy and dropout: the rows present in this
// batch (≤ the plan's capacity; a short last batch has fewer), 1/rows for the mean loss gradient, where the
// batch starts in the epoch's order of training images, the training step and the model's seed (dropout's
// masks are keyed by both) and the label smoothing of the loss (0 in evaluation). Its WGSL struct and its packer
// live here only.
import type { UniformWords } from './bindings.js';

export const BATCH_UNIFORM_BYTES = 32;

export const BATCH_STRUCT = 'struct Batch { rows: u32, invRows: f32, start: u32, step: u32, labelSmoothing: f32, seed: u32 }';

export interface BatchFields {
  rows: number;
  /** First row of the batch in the epoch's order (gathered batches). Default 0. */
  start?: number;
  /** The optimizer step this batch trains (1-based; keys dropout masks). Default 0. */
  step?: number;
  /** ε of PyTorch's CrossEntropyLoss(label_smoothing=ε). Default 0. */
  labelSmoothing?: number;
  /** The model's seed (keys dropout masks). Default 0. */
  seed?: number;
}

/** Packs struct Batch into `w` (≥ BATCH_UNIFORM_BYTES) and returns its bytes. */
export function packBatchUniform(w: UniformWords, b: BatchFields): ArrayBuffer {
  w.u32[0] = b.rows;
  w.f32[1] = 1 / b.rows;
  w.u32[2] = b.start ?? 0;
  w.u32[3] = b.step ?? 0;
  w.f32[4] = b.labelSmoothing ?? 0;
  w.u32[5] = b.seed ?? 0;
  w.u32[6] = 0;
  w.u32[7] = 0;
  return w.buffer;
}
