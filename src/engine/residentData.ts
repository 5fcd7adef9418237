// A training set kept in GPU memory for the length of a fit, so that batches are gathered on the GPU
// (shaders/gatherBatch.ts) and a step uploads no inputs: images as u8 packed four to a u32 or as f32 features,
// labels as u32, and the epoch's shuffled order of rows, written once per epoch. Augmented fits keep u8 images as
// quads instead (src/augment/quads.ts), which the distortion samples in one load each.
import { inputBufferBytes, inputKindOf, type AnyDataset, type InputKind } from '../data/dataset.js';
import { storageBuffer } from '../gpu/buffers.js';
import { packQuads, quadWords } from '../augment/quads.js';
import { quadWordsPerImage } from '../../shaders/quadLayout.js';
import type { ImageSize } from '../augment/spec.js';

/** Images packed into quads per upload: 4,096 MNIST digits are 14 MB of host memory at a time. */
const QUAD_CHUNK_IMAGES = 4096;

/** Bytes of a data set's images in GPU memory: u8 padded to whole u32 words, 4 per f32, or its quads. */
function imageBytes(data: AnyDataset, quads?: ImageSize): number {
  return quads ? quadWords(data.count, quads) * 4 : inputBufferBytes(inputKindOf(data.images), data.count * data.features);
}

export class ResidentDataset {
  readonly kind: InputKind;
  readonly images: GPUBuffer;
  readonly labels: GPUBuffer;
  /** Float targets [count × width], for the 'mse' and 'bce' losses; absent for class labels. */
  readonly targets?: GPUBuffer;
  readonly order: GPUBuffer;

  /** `quads`: keep u8 images of this [C, H, W] as quads (augmented fits), not as rows. */
  constructor(readonly device: GPUDevice, readonly data: AnyDataset, readonly quads?: ImageSize) {
    this.kind = inputKindOf(data.images);
    const values = data.count * data.features;
    this.images = storageBuffer(device, imageBytes(data, quads), `${data.name} images${quads ? ' as quads' : ''}`);
    if (quads) {
      if (!(data.images instanceof Uint8Array) || quads[0] * quads[1] * quads[2] !== data.features) {
        throw new Error(`ResidentDataset: quads of ${quads.join('×')} images need u8 rows of that many pixels, got ${this.kind} rows of ${data.features}`);
      }
      const perImage = quadWordsPerImage(...quads);
      const chunk = new Uint32Array(Math.min(QUAD_CHUNK_IMAGES, data.count) * perImage);
      for (let first = 0; first < data.count; first += QUAD_CHUNK_IMAGES) {
        const count = Math.min(QUAD_CHUNK_IMAGES, data.count - first);
        packQuads(chunk, data.images, first, count, quads);
        device.queue.writeBuffer(this.images, first * perImage * 4, chunk, 0, count * perImage);
      }
    } else if (data.images instanceof Float32Array) {
      const features = data.images.subarray(0, values);
      device.queue.writeBuffer(this.images, 0, features.buffer, features.byteOffset, features.byteLength);
    } else {
      const padded = new Uint8Array(imageBytes(data));
      padded.set(data.images.subarray(0, values));
      device.queue.writeBuffer(this.images, 0, padded);
    }
    this.labels = storageBuffer(device, data.count * 4, `${data.name} labels`);
    device.queue.writeBuffer(this.labels, 0, Uint32Array.from(data.labels.subarray(0, data.count)));
    if (data.targets) {
      const values = data.targets.values.subarray(0, data.count * data.targets.width);
      this.targets = storageBuffer(device, Math.max(4, values.byteLength), `${data.name} targets`);
      device.queue.writeBuffer(this.targets, 0, values.buffer, values.byteOffset, values.byteLength);
    }
    this.order = storageBuffer(device, data.count * 4, `${data.name} order`);
  }

  /** Whether a data set (as quads of `quads`-sized images, if given) fits in one storage binding of this device. */
  static fits(device: GPUDevice, data: AnyDataset, quads?: ImageSize): boolean {
    const largest = Math.max(imageBytes(data, quads), data.count * 4, data.count * (data.targets?.width ?? 0) * 4); // images, labels and order, or targets
    return largest <= device.limits.maxStorageBufferBindingSize;
  }

  /** Whether this holds `data` in the layout `quads` asks for. */
  holds(data: AnyDataset, quads?: ImageSize): boolean {
    return this.data === data && this.quads?.join() === quads?.join();
  }

  /** Queues this epoch's order of images (before the epoch's first step). */
  writeOrder(order: Uint32Array): void {
    this.device.queue.writeBuffer(this.order, 0, order.buffer, order.byteOffset, order.byteLength);
  }

  destroy(): void {
    for (const b of [this.images, this.labels, this.order, this.targets]) b?.destroy();
  }
}
