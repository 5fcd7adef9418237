// The GPU ops of augmentation, under their WGSL entry points' names (shaders/augment.ts, shaders/elastic.ts). A
// data set kept in GPU memory as quads takes augmentLines, its elastic field in one pass before it
// (elasticNoiseColumns); an uploaded batch of bytes, or lines too long to unroll, take augmentImages, its field in
// two (elasticRows, elasticColumns). Their float64 twin is ./reference.ts.
import {
  augmentLinesBindings, augmentBindings, augmentImagesShader, augmentLinesShader, linesFit, type AugmentShape,
} from '../../shaders/augment.js';
import {
  ELASTIC_COLUMNS_BINDINGS, ELASTIC_NOISE_COLUMNS_BINDINGS, ELASTIC_ROWS_BINDINGS, elasticColumnsShader,
  elasticNoiseColumnsShader, elasticRowsShader, type ElasticShape,
} from '../../shaders/elastic.js';
import type { Binding } from '../../shaders/bindings.js';
import { makeDispatch, type BufferSlice, type Dispatch, type PipelineCache } from '../gpu/dispatch.js';
import { ELASTIC_DRAWS_START, gaussianTaps, type Augmentation, type ImageSize } from './spec.js';

/**
 * What augmentation reads and writes: the u8 batch, or with `order` a whole data set as quads (src/augment/quads.ts)
 * whose image order[start + r] is the batch's row r; the distorted batch; the Batch uniform; and for elastic
 * distortion two [capacity × H × W] vec2f fields (augmentLines uses only `blurred`).
 */
export interface AugmentBuffers {
  input: BufferSlice;
  order?: BufferSlice;
  output: BufferSlice;
  batch: BufferSlice;
  elastic?: { blurred: BufferSlice; displacement: BufferSlice };
}

/** Bytes of each elastic field buffer (blurred, displacement) for `capacity` rows of `image`. */
export const elasticFieldBytes = (capacity: number, image: ImageSize): number => capacity * image[1] * image[2] * 8;

/** Invocations per workgroup of the elastic passes and augmentLines (one invocation per image row, column or line). */
const PER_LINE_WORKGROUP = 64;

/**
 * output[capacity × F] = the distorted batch, keyed by the Batch uniform's seed and step: u8 (rounded to bytes,
 * read by the first layer as plain pixels) or f32 (normalized with `pixels`).
 */
export function augmentDispatches(
  cache: PipelineCache, buffers: AugmentBuffers, capacity: number, image: ImageSize, a: Augmentation,
  pixels: { pixelScale: number; pixelShift: number }, output: 'u8' | 'f32', workgroupSize = 16,
): Dispatch[] {
  const [channels, height, width] = image;
  const hw = height * width;
  const F = channels * hw;
  const elastic = a.elastic !== undefined;
  if (elastic && !buffers.elastic) throw new Error('augmentDispatches: elastic distortion needs its field buffers');
  const source = buffers.order ? 'dataset' : 'batch';
  const shape: AugmentShape = {
    capacity, channels, height, width, ...pixels, output, elastic, source,
    rotate: ((a.rotate ?? 0) * Math.PI) / 180, scale: a.scale ?? 0, shear: a.shear ?? 0, shift: a.shift ?? 0,
  };
  const taps = a.elastic ? gaussianTaps(a.elastic.sigma) : new Float32Array(0);
  const e: ElasticShape = { capacity, height, width, alpha: a.elastic?.alpha ?? 0, taps, drawsStart: ELASTIC_DRAWS_START };
  const passCost = { flops: capacity * hw * 4 * taps.length, bytes: capacity * hw * 16 };
  // Bytes per sample: its read (a quad's u32, or one byte of a row) and its write (a byte, or an f32).
  const sampleCost = (read: number) => ({ flops: capacity * F * 20, bytes: capacity * F * (read + (output === 'u8' ? 1 : 4)) + (elastic ? capacity * hw * 8 : 0) });
  const field = (kernel: string, code: string, bindings: readonly Binding[], bound: Record<string, BufferSlice>, lines: number) =>
    makeDispatch(cache, `${kernel} ${capacity}×${height}×${width}`, code, kernel, bindings, { ...bound, batch: buffers.batch }, capacity * lines, PER_LINE_WORKGROUP, passCost);
  const label = (kernel: string) => `${kernel} ${capacity}×${channels}×${height}×${width} ${output}${source === 'dataset' ? ' from the data set' : ''}`;
  const common = { input: buffers.input, output: buffers.output, batch: buffers.batch, ...(buffers.order && { order: buffers.order }) };

  if (source === 'dataset' && linesFit(shape)) {
    const blurred = buffers.elastic?.blurred;
    return [
      ...(elastic ? [field('elasticNoiseColumns', elasticNoiseColumnsShader(PER_LINE_WORKGROUP, e), ELASTIC_NOISE_COLUMNS_BINDINGS, { blurredColumns: blurred! }, width)] : []),
      makeDispatch(cache, label('augmentLines'), augmentLinesShader(PER_LINE_WORKGROUP, shape, elastic ? { alpha: e.alpha, taps } : undefined), 'augmentLines',
        augmentLinesBindings(elastic), { ...common, ...(elastic && { blurredColumns: blurred! }) }, capacity * height, PER_LINE_WORKGROUP, sampleCost(4)),
    ];
  }
  const dispatches: Dispatch[] = [];
  if (elastic) {
    const { blurred, displacement } = buffers.elastic!;
    dispatches.push(
      field('elasticRows', elasticRowsShader(PER_LINE_WORKGROUP, e), ELASTIC_ROWS_BINDINGS, { blurredRows: blurred }, height),
      field('elasticColumns', elasticColumnsShader(PER_LINE_WORKGROUP, e), ELASTIC_COLUMNS_BINDINGS, { blurredRows: blurred, displacement }, width),
    );
  }
  dispatches.push(makeDispatch(cache, label('augmentImages'), augmentImagesShader(workgroupSize, shape), 'augmentImages', augmentBindings(elastic, source),
    { ...common, ...(elastic && { displacement: buffers.elastic!.displacement }) }, capacity * workgroupSize, workgroupSize, sampleCost(source === 'dataset' ? 4 : 1)));
  return dispatches;
}
