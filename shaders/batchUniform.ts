// The per-step Batch uniform, read by gatherBatch and softmaxCrossEntropy: the rows present in this batch
// (≤ the plan's capacity; a short last batch has fewer), 1/rows for the mean loss gradient, and where the batch
// starts in the epoch's order of training images. Its WGSL struct and its packer live here only.

export const BATCH_UNIFORM_BYTES = 16;

export const BATCH_STRUCT = 'struct Batch { rows: u32, invRows: f32, start: u32 }';

/** Packs the Batch uniform into one reused buffer of words. */
export class BatchWords {
  readonly words = new ArrayBuffer(BATCH_UNIFORM_BYTES);
  private readonly u32 = new Uint32Array(this.words);
  private readonly f32 = new Float32Array(this.words);

  pack(rows: number, start = 0): ArrayBuffer {
    this.u32[0] = rows;
    this.f32[1] = 1 / rows;
    this.u32[2] = start;
    return this.words;
  }
}
