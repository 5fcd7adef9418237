// Host-side batch assembly into buffers made once: u8 pixels packed for upload, labels as u32.
// A batch goes either straight into the plan's buffers (one step per submission) or into a slot of a
// StepUploads ring, from which the command buffer copies it just before its step (several steps per submission).
import type { Dataset } from '../data/dataset.js';
import type { ModelPlan } from './plan.js';

export class BatchUploader {
  private readonly pixels: Uint8Array;
  private readonly labels: Uint32Array;
  private rows = 0;

  constructor(readonly plan: ModelPlan, readonly features: number) {
    this.pixels = new Uint8Array(plan.inputBytes);
    this.labels = new Uint32Array(plan.capacity);
  }

  /** Gathers rows order[start .. start+rows) of `data` on the host; returns the rows gathered. */
  assemble(data: Dataset, order: ArrayLike<number> | null, start: number, rows: number): number {
    const F = this.features;
    for (let r = 0; r < rows; r++) {
      const index = order ? order[start + r] : start + r;
      this.pixels.set(data.images.subarray(index * F, index * F + F), r * F);
      this.labels[r] = data.labels[index];
    }
    this.rows = rows;
    return rows;
  }

  /** Uploads rows order[start .. start+rows) of `data` into the plan's buffers; returns the rows uploaded. */
  upload(data: Dataset, order: ArrayLike<number> | null, start: number, rows: number): number {
    this.assemble(data, order, start, rows);
    this.uploadToPlan();
    return rows;
  }

  /** Writes the assembled batch into the plan's buffers. */
  uploadToPlan(): void {
    const queue = this.plan.model.device.queue;
    queue.writeBuffer(this.plan.input, 0, this.pixels.buffer, 0, this.pixelBytes());
    queue.writeBuffer(this.plan.labels, 0, this.labels.buffer, 0, this.rows * 4);
    this.plan.writeBatchSize(this.rows);
  }

  /** Writes the assembled batch into slot `slot` of a ring. */
  uploadToSlot(ring: StepUploads, slot: number): void {
    const queue = this.plan.model.device.queue;
    const at = ring.slotOffsets(slot);
    queue.writeBuffer(ring.buffer, at.input, this.pixels.buffer, 0, this.pixelBytes());
    queue.writeBuffer(ring.buffer, at.labels, this.labels.buffer, 0, this.rows * 4);
    queue.writeBuffer(ring.buffer, at.batch, this.plan.batchSizeWords(this.rows));
  }

  private pixelBytes(): number {
    return Math.ceil((this.rows * this.features) / 4) * 4;
  }
}

const align = (bytes: number, to = 256) => Math.ceil(bytes / to) * to;

/**
 * Per-step inputs for several steps in one submission: slot s holds step s's pixels, labels, batch-size
 * uniform and optimizer uniform; copyIn(encoder, s) copies them into the plan's and optimizer's buffers.
 */
export class StepUploads {
  readonly buffer: GPUBuffer;
  private readonly slotBytes: number;
  private readonly layout: { input: number; labels: number; batch: number; optimizer: number };

  constructor(readonly plan: ModelPlan, readonly optimizerUniform: GPUBuffer, readonly slots: number) {
    const input = 0;
    const labels = align(plan.inputBytes);
    const batch = labels + align(plan.labels.size);
    const optimizer = batch + align(plan.batch.size);
    this.layout = { input, labels, batch, optimizer };
    this.slotBytes = optimizer + align(optimizerUniform.size);
    this.buffer = plan.model.device.createBuffer({
      size: this.slotBytes * slots, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label: 'step uploads',
    });
  }

  slotOffsets(slot: number) {
    const base = slot * this.slotBytes;
    const l = this.layout;
    return { input: base + l.input, labels: base + l.labels, batch: base + l.batch, optimizer: base + l.optimizer };
  }

  copyIn(encoder: GPUCommandEncoder, slot: number): void {
    const at = this.slotOffsets(slot);
    const p = this.plan;
    encoder.copyBufferToBuffer(this.buffer, at.input, p.input, 0, p.inputBytes);
    encoder.copyBufferToBuffer(this.buffer, at.labels, p.labels, 0, p.labels.size);
    encoder.copyBufferToBuffer(this.buffer, at.batch, p.batch, 0, p.batch.size);
    encoder.copyBufferToBuffer(this.buffer, at.optimizer, this.optimizerUniform, 0, this.optimizerUniform.size);
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
