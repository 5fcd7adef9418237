// The GPU op of augmentation: one dispatch that distorts a training batch (shaders/augment.ts), under the WGSL
// entry point's name; its float64 twin is augmentImages in ./reference.ts.
import { AUGMENT_BINDINGS, augmentImagesShader } from '../../shaders/augment.js';
import { makeDispatch, type BufferSlice, type Dispatch, type PipelineCache } from '../gpu/dispatch.js';
import { ELASTIC_DRAWS_START, gaussianTaps, type Augmentation, type ImageSize } from './spec.js';

/** output[capacity × F] f32 = augmentImages(input[capacity × F] u8 pixels), keyed by the Batch uniform's seed and step. */
export function augmentImages(
  cache: PipelineCache, output: BufferSlice, input: BufferSlice, batch: BufferSlice, capacity: number, image: ImageSize,
  a: Augmentation, pixels: { pixelScale: number; pixelShift: number }, workgroupSize = 64,
): Dispatch {
  const [channels, height, width] = image;
  const taps = a.elastic ? gaussianTaps(a.elastic.sigma) : undefined;
  const code = augmentImagesShader(workgroupSize, {
    capacity, channels, height, width, ...pixels,
    rotate: ((a.rotate ?? 0) * Math.PI) / 180, scale: a.scale ?? 0, shear: a.shear ?? 0, shift: a.shift ?? 0,
    elastic: a.elastic && taps && { alpha: a.elastic.alpha, taps },
    elasticDrawsStart: ELASTIC_DRAWS_START,
  });
  const pixelsPerRow = channels * height * width;
  const cost = { flops: capacity * (height * width * (8 * (taps?.length ?? 0) + 20) + pixelsPerRow * 12), bytes: capacity * pixelsPerRow * 5 };
  const label = `augmentImages ${capacity}×${channels}×${height}×${width}`;
  return makeDispatch(cache, label, code, 'augmentImages', AUGMENT_BINDINGS, { input, output, batch }, capacity * workgroupSize, workgroupSize, cost);
}
