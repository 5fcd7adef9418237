// The GPU ops of augmentation (shaders/augment.ts), under their WGSL entry points' names: the elastic field in
// two passes when the recipe has one, then augmentImages. Their float64 twin is ./reference.ts.
import {
  augmentBindings, augmentImagesShader, ELASTIC_COLUMNS_BINDINGS, ELASTIC_ROWS_BINDINGS, elasticColumnsShader,
  elasticRowsShader, type ElasticShape,
} from '../../shaders/augment.js';
import { makeDispatch, type BufferSlice, type Dispatch, type PipelineCache } from '../gpu/dispatch.js';
import { ELASTIC_DRAWS_START, gaussianTaps, type Augmentation, type ImageSize } from './spec.js';

/**
 * What augmentation reads and writes: the u8 batch (or, with `order`, a whole u8 data set whose row order[start +
 * r] is the batch's row r), the distorted batch, the Batch uniform, and for elastic distortion two
 * [capacity × H × W] vec2f fields.
 */
export interface AugmentBuffers {
  input: BufferSlice;
  order?: BufferSlice;
  output: BufferSlice;
  batch: BufferSlice;
  elastic?: { blurredRows: BufferSlice; displacement: BufferSlice };
}

/** Bytes of each elastic field buffer (blurredRows, displacement) for `capacity` rows of `image`. */
export const elasticFieldBytes = (capacity: number, image: ImageSize): number => capacity * image[1] * image[2] * 8;

/** Invocations per workgroup of the two elastic passes (one invocation per image row or column). */
const ELASTIC_WORKGROUP = 64;

/**
 * output[capacity × F] = augmentImages(input[capacity × F] u8 pixels), keyed by the Batch uniform's seed and step:
 * u8 (rounded to bytes, read by the first layer as plain pixels) or f32 (normalized with `pixels`).
 */
export function augmentDispatches(
  cache: PipelineCache, buffers: AugmentBuffers, capacity: number, image: ImageSize, a: Augmentation,
  pixels: { pixelScale: number; pixelShift: number }, output: 'u8' | 'f32', workgroupSize = 16,
): Dispatch[] {
  const [channels, height, width] = image;
  const hw = height * width;
  const dispatches: Dispatch[] = [];
  const elastic = a.elastic !== undefined;
  if (a.elastic) {
    if (!buffers.elastic) throw new Error('augmentDispatches: elastic distortion needs its two field buffers');
    const taps = gaussianTaps(a.elastic.sigma);
    const e: ElasticShape = { capacity, height, width, alpha: a.elastic.alpha, taps, drawsStart: ELASTIC_DRAWS_START };
    const { blurredRows, displacement } = buffers.elastic;
    const passCost = { flops: capacity * hw * 4 * taps.length, bytes: capacity * hw * 16 };
    dispatches.push(
      makeDispatch(cache, `elasticRows ${capacity}×${height}×${width}`, elasticRowsShader(ELASTIC_WORKGROUP, e), 'elasticRows', ELASTIC_ROWS_BINDINGS,
        { blurredRows, batch: buffers.batch }, capacity * height, ELASTIC_WORKGROUP, passCost),
      makeDispatch(cache, `elasticColumns ${capacity}×${height}×${width}`, elasticColumnsShader(ELASTIC_WORKGROUP, e), 'elasticColumns', ELASTIC_COLUMNS_BINDINGS,
        { blurredRows, displacement, batch: buffers.batch }, capacity * width, ELASTIC_WORKGROUP, passCost),
    );
  }
  const source = buffers.order ? 'dataset' : 'batch';
  const code = augmentImagesShader(workgroupSize, {
    capacity, channels, height, width, ...pixels, output, elastic, source,
    rotate: ((a.rotate ?? 0) * Math.PI) / 180, scale: a.scale ?? 0, shear: a.shear ?? 0, shift: a.shift ?? 0,
  });
  const F = channels * hw;
  const cost = { flops: capacity * F * 20, bytes: capacity * F * (output === 'u8' ? 2 : 5) + (elastic ? capacity * hw * 8 : 0) };
  const bound = {
    input: buffers.input, output: buffers.output, batch: buffers.batch,
    ...(buffers.order && { order: buffers.order }), ...(elastic && { displacement: buffers.elastic!.displacement }),
  };
  const label = `augmentImages ${capacity}×${channels}×${height}×${width} ${output}${source === 'dataset' ? ' from the data set' : ''}`;
  dispatches.push(makeDispatch(cache, label, code, 'augmentImages', augmentBindings(elastic, source),
    bound, capacity * workgroupSize, workgroupSize, cost));
  return dispatches;
}
