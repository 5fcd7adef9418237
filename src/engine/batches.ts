// Getting each step's inputs to the GPU without per-step allocation.
// - BatchUploader: gathers rows on the host and writes their inputs (u8 pixels or f32 features), labels and the Batch uniform into the plan's
//   buffers (evaluation and prediction; training on a data set too big to keep in GPU memory).
// - StepUniforms: for several training steps in one submission, each step's small uniforms (Batch and the
//   optimizer's) wait in a slot of a ring, written once per submission, and are copied into place just
//   before their step.
import { BadInputError } from '../errors.js';
import type { BatchFields } from '../../shaders/batchUniform.js';
import { inputBufferBytes, inputKindOf, type AnyDataset } from '../data/dataset.js';
import type { ModelPlan } from './plan.js';
import { trackedBuffer } from '../gpu/buffers.js';

export class BatchUploader {
  /** The batch's inputs on the host, as the plan's input buffer holds them (u8 padded to whole words, or f32). */
  private readonly inputs: Uint8Array | Float32Array;
  private readonly labels: Uint32Array;
  /** The batch's float targets, when the plan's loss takes them. */
  private readonly targets?: Float32Array;

  constructor(readonly plan: ModelPlan, readonly features: number) {
    this.inputs = plan.inputEncoding.kind === 'f32' ? new Float32Array(plan.inputBytes / 4) : new Uint8Array(plan.inputBytes);
    this.labels = new Uint32Array(plan.capacity);
    if (plan.targets) this.targets = new Float32Array(plan.targets.size / 4);
  }

  /**
   * Uploads rows order[start .. start+rows) of `data` into the plan's buffers, and the Batch uniform with
   * `fields` (step, label smoothing); returns the rows uploaded. `data` holds the plan's input kind (checkDataset).
   */
  upload(data: AnyDataset, order: ArrayLike<number> | null, start: number, rows: number, fields: Omit<BatchFields, 'rows'> = {}): number {
    const F = this.features;
    if (inputKindOf(data.images) !== this.plan.inputEncoding.kind) throw new BadInputError(`${data.name}: ${inputKindOf(data.images)} inputs for a plan that takes ${this.plan.inputEncoding.kind}`);
    for (let r = 0; r < rows; r++) {
      const index = order ? order[start + r] : start + r;
      this.inputs.set(data.images.subarray(index * F, index * F + F), r * F);
      this.labels[r] = data.labels[index] ?? 0;
      if (this.targets) {
        const W = data.targets!.width;
        this.targets.set(data.targets!.values.subarray(index * W, index * W + W), r * W);
      }
    }
    const queue = this.plan.model.device.queue;
    queue.writeBuffer(this.plan.input, 0, this.inputs.buffer, 0, inputBufferBytes(this.plan.inputEncoding.kind, rows * F));
    queue.writeBuffer(this.plan.labels, 0, this.labels.buffer, 0, rows * 4);
    if (this.targets) queue.writeBuffer(this.plan.targets!, 0, this.targets.buffer, 0, rows * data.targets!.width * 4);
    this.plan.writeBatch({ ...fields, rows, start: 0 });
    return rows;
  }
}

const ALIGN = 256; // copy offsets must be multiples of 4; 256 keeps each uniform on its own line

/**
 * Slot s holds step s's Batch uniform, then its optimizer uniform. The caller packs both into their word
 * buffers (`batchWords`, `optimizerWords`, reused from step to step) before each stage().
 */
export class StepUniforms {
  readonly buffer: GPUBuffer;
  private readonly host: Uint8Array;
  private readonly slotBytes: number;
  private readonly optimizerOffset: number;
  private readonly batchSource: Uint8Array;
  private readonly optimizerSource: Uint8Array;

  constructor(
    private readonly device: GPUDevice,
    private readonly batch: GPUBuffer, batchWords: ArrayBuffer,
    private readonly optimizer: GPUBuffer, optimizerWords: ArrayBuffer,
    readonly slots: number,
  ) {
    // The words may be shorter than their buffer (rounded up to 16 bytes): copy what the words hold.
    this.batchSource = new Uint8Array(batchWords, 0, Math.min(batchWords.byteLength, batch.size));
    this.optimizerSource = new Uint8Array(optimizerWords, 0, Math.min(optimizerWords.byteLength, optimizer.size));
    this.optimizerOffset = Math.ceil(batch.size / ALIGN) * ALIGN;
    this.slotBytes = this.optimizerOffset + Math.ceil(optimizer.size / ALIGN) * ALIGN;
    this.host = new Uint8Array(this.slotBytes * slots);
    this.buffer = trackedBuffer(device, { size: this.host.byteLength, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label: 'step uniforms' });
  }

  /** Copies the packed words into slot `slot` on the host and encodes their copy into place (read once flushed). */
  stage(encoder: GPUCommandEncoder, slot: number): void {
    const at = slot * this.slotBytes;
    this.host.set(this.batchSource, at);
    this.host.set(this.optimizerSource, at + this.optimizerOffset);
    encoder.copyBufferToBuffer(this.buffer, at, this.batch, 0, this.batchSource.byteLength);
    encoder.copyBufferToBuffer(this.buffer, at + this.optimizerOffset, this.optimizer, 0, this.optimizerSource.byteLength);
  }

  /** Queues the first `used` slots: one write per submission, before it. */
  flush(used: number): void {
    this.device.queue.writeBuffer(this.buffer, 0, this.host.buffer, 0, used * this.slotBytes);
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
