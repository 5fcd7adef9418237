// The quad layout that augmentLines and augmentImages read a data set kept in GPU memory in (shaders/augment.ts):
// each image as a grid of (H + 1) × (W + 1) cells; cell (x0 + 1, y0 + 1) holds, per channel, the four pixels
// around (x0 + ½, y0 + ½) in one u32, bytes (x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1), zero outside
// the image. A bilinear sample is then one load, not four: on SwiftShader that is 40 % of the sampler's time.
// Four times the bytes of the images (MNIST's training set: 202 MB).
import { quadWordsPerImage } from '../../shaders/quadLayout.js';
import type { ImageSize } from './spec.js';

/**
 * u32 words of `count` images in the quad layout, and the padding after them: a sample at the far corner of the
 * last image reads W + 2 cells past its grid (with weight 0, shaders/augment.ts quadSample), which must be there.
 */
export const quadWords = (count: number, image: ImageSize): number => count * quadWordsPerImage(...image) + (image[2] + 2) * image[0];

/**
 * out[(i − first) · quadWordsPerImage + …] = the quads of images [first, first + count) of `pixels` (u8,
 * channels-last, C·H·W bytes each).
 */
export function packQuads(out: Uint32Array, pixels: Uint8Array, first: number, count: number, image: ImageSize): void {
  const [C, H, W] = image;
  const F = C * H * W;
  const perImage = quadWordsPerImage(C, H, W);
  if (out.length < count * perImage) throw new Error(`packQuads: ${count} images need ${count * perImage} words, got ${out.length}`);
  // The image inside a border of zeros: cell (gx, gy) reads padded pixels (gx, gy) to (gx + 1, gy + 1).
  const rowBytes = (W + 2) * C;
  const padded = new Uint8Array((H + 2) * rowBytes);
  for (let i = 0; i < count; i++) {
    const src = (first + i) * F;
    for (let y = 0; y < H; y++) padded.set(pixels.subarray(src + y * W * C, src + (y + 1) * W * C), (y + 1) * rowBytes + C);
    let o = i * perImage;
    for (let gy = 0; gy <= H; gy++) {
      const top = gy * rowBytes;
      const bottom = top + rowBytes;
      for (let j = 0; j < (W + 1) * C; j++) {
        out[o++] = (padded[top + j] | (padded[top + j + C] << 8) | (padded[bottom + j] << 16) | (padded[bottom + j + C] << 24)) >>> 0;
      }
    }
  }
}
