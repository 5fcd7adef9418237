// A training set kept in GPU memory for the length of a fit, so that batches are gathered on the GPU
// (shaders/gatherBatch.ts) and a step uploads no pixels: images as u8 packed four to a u32, labels as u32,
// and the epoch's shuffled order of images, written once per epoch.
import type { Dataset } from '../data/dataset.js';
import { storageBuffer } from './buffers.js';

export class ResidentDataset {
  readonly images: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly order: GPUBuffer;

  constructor(readonly device: GPUDevice, readonly data: Dataset) {
    const imageBytes = data.count * data.features;
    const padded = new Uint8Array(Math.ceil(imageBytes / 4) * 4);
    padded.set(data.images.subarray(0, imageBytes));
    this.images = storageBuffer(device, padded.byteLength, `${data.name} images`);
    device.queue.writeBuffer(this.images, 0, padded);
    this.labels = storageBuffer(device, data.count * 4, `${data.name} labels`);
    device.queue.writeBuffer(this.labels, 0, Uint32Array.from(data.labels.subarray(0, data.count)));
    this.order = storageBuffer(device, data.count * 4, `${data.name} order`);
  }

  /** Whether a data set fits in one storage binding of this device. */
  static fits(device: GPUDevice, data: Dataset): boolean {
    const largest = Math.max(Math.ceil((data.count * data.features) / 4) * 4, data.count * 4); // images, or labels and order
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
