// A training set kept in GPU memory for the length of a fit, so that batches are gathered on the GPU
// (shaders/gatherBatch.ts) and a step uploads no inputs: images as u8 packed four to a u32 or as f32 features,
// labels as u32, and the epoch's shuffled order of rows, written once per epoch.
import { inputBufferBytes, inputKindOf, type AnyDataset, type InputKind } from '../data/dataset.js';
import { storageBuffer } from '../gpu/buffers.js';

/** Bytes of a data set's inputs in GPU memory: u8 padded to whole u32 words, or 4 per f32. */
const inputBytes = (data: AnyDataset): number => inputBufferBytes(inputKindOf(data.images), data.count * data.features);

export class ResidentDataset {
  readonly kind: InputKind;
  readonly images: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly order: GPUBuffer;

  constructor(readonly device: GPUDevice, readonly data: AnyDataset) {
    this.kind = inputKindOf(data.images);
    const values = data.count * data.features;
    this.images = storageBuffer(device, inputBytes(data), `${data.name} images`);
    if (data.images instanceof Float32Array) {
      const features = data.images.subarray(0, values);
      device.queue.writeBuffer(this.images, 0, features.buffer, features.byteOffset, features.byteLength);
    } else {
      const padded = new Uint8Array(inputBytes(data));
      padded.set(data.images.subarray(0, values));
      device.queue.writeBuffer(this.images, 0, padded);
    }
    this.labels = storageBuffer(device, data.count * 4, `${data.name} labels`);
    device.queue.writeBuffer(this.labels, 0, Uint32Array.from(data.labels.subarray(0, data.count)));
    this.order = storageBuffer(device, data.count * 4, `${data.name} order`);
  }

  /** Whether a data set fits in one storage binding of this device. */
  static fits(device: GPUDevice, data: AnyDataset): boolean {
    const largest = Math.max(inputBytes(data), data.count * 4); // images, or labels and order
    return largest <= device.limits.maxStorageBufferBindingSize;
  }

  /** Queues this epoch's order of images (before the epoch's first step). */
  writeOrder(order: Uint32Array): void {
    this.device.queue.writeBuffer(this.order, 0, order.buffer, order.byteOffset, order.byteLength);
  }

  destroy(): void {
    for (const b of [this.images, this.labels, this.order]) b.destroy();
  }
}
