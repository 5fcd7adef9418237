// Host-side batch assembly into buffers made once: u8 pixels packed for upload, labels as u32.
import type { Dataset } from '../data/dataset.js';
import type { ModelPlan } from './plan.js';

export class BatchUploader {
  private readonly pixels: Uint8Array;
  private readonly labels: Uint32Array;

  constructor(readonly plan: ModelPlan, readonly features: number) {
    this.pixels = new Uint8Array(plan.inputBytes);
    this.labels = new Uint32Array(plan.capacity);
  }

  /** Uploads rows order[start .. start+rows) of `data`; returns the rows uploaded. */
  upload(data: Dataset, order: ArrayLike<number> | null, start: number, rows: number): number {
    const F = this.features;
    for (let r = 0; r < rows; r++) {
      const index = order ? order[start + r] : start + r;
      this.pixels.set(data.images.subarray(index * F, index * F + F), r * F);
      this.labels[r] = data.labels[index];
    }
    const queue = this.plan.model.device.queue;
    queue.writeBuffer(this.plan.input, 0, this.pixels.buffer, 0, Math.ceil((rows * F) / 4) * 4);
    queue.writeBuffer(this.plan.labels, 0, this.labels.buffer, 0, rows * 4);
    this.plan.writeBatchSize(rows);
    return rows;
  }
}
