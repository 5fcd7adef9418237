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
import { dispatch, type BufferSlice, type Dispatch, type Kernel, type PipelineCache } from '../gpu/dispatch.js';
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
 * The kernels that distort a batch, in order: output[capacity × F] = the distorted batch, keyed by the Batch
 * uniform's seed and step, u8 (rounded to bytes, read by the first layer as plain pixels) or f32 (normalized with
 * `pixels`). `source`: the batch's bytes, or the whole data set as quads read through `order`.
 */
export function distortionKernels(
  capacity: number, image: ImageSize, a: Augmentation, pixels: { pixelScale: number; pixelShift: number }, output: 'u8' | 'f32',
  source: 'batch' | 'dataset', workgroupSize = 16,
): Kernel[] {
  const [channels, height, width] = image;
  const hw = height * width;
  const F = channels * hw;
  const elastic = a.elastic !== undefined;
  const shape: AugmentShape = {
    capacity, channels, height, width, ...pixels, output, elastic, source,
    rotate: ((a.rotate ?? 0) * Math.PI) / 180, scale: a.scale ?? 0, shear: a.shear ?? 0, shift: a.shift ?? 0,
  };
  const taps = a.elastic ? gaussianTaps(a.elastic.sigma) : new Float32Array(0);
  const e: ElasticShape = { capacity, height, width, alpha: a.elastic?.alpha ?? 0, taps, drawsStart: ELASTIC_DRAWS_START };
  const passCost = { flops: capacity * hw * 4 * taps.length, bytes: capacity * hw * 16 };
  // Bytes per sample: its read (a quad's u32, or one byte of a row) and its write (a byte, or an f32).
  const sampleCost = (read: number) => ({ flops: capacity * F * 20, bytes: capacity * F * (read + (output === 'u8' ? 1 : 4)) + (elastic ? capacity * hw * 8 : 0) });
  const field = (entryPoint: string, code: string, bindings: readonly Binding[], lines: number): Kernel => ({
    label: `${entryPoint} ${capacity}×${height}×${width}`, code, entryPoint, bindings, invocations: capacity * lines, workgroupSize: PER_LINE_WORKGROUP, cost: passCost,
  });
  const label = (kernel: string) => `${kernel} ${capacity}×${channels}×${height}×${width} ${output}${source === 'dataset' ? ' from the data set' : ''}`;

  if (source === 'dataset' && linesFit(shape)) {
    return [
      ...(elastic ? [field('elasticNoiseColumns', elasticNoiseColumnsShader(PER_LINE_WORKGROUP, e), ELASTIC_NOISE_COLUMNS_BINDINGS, width)] : []),
      {
        label: label('augmentLines'), code: augmentLinesShader(PER_LINE_WORKGROUP, shape, elastic ? { alpha: e.alpha, taps } : undefined), entryPoint: 'augmentLines',
        bindings: augmentLinesBindings(elastic), invocations: capacity * height, workgroupSize: PER_LINE_WORKGROUP, cost: sampleCost(4),
      },
    ];
  }
  return [
    ...(elastic ? [
      field('elasticRows', elasticRowsShader(PER_LINE_WORKGROUP, e), ELASTIC_ROWS_BINDINGS, height),
      field('elasticColumns', elasticColumnsShader(PER_LINE_WORKGROUP, e), ELASTIC_COLUMNS_BINDINGS, width),
    ] : []),
    {
      label: label('augmentImages'), code: augmentImagesShader(workgroupSize, shape), entryPoint: 'augmentImages', bindings: augmentBindings(elastic, source),
      invocations: capacity * workgroupSize, workgroupSize, cost: sampleCost(source === 'dataset' ? 4 : 1),
    },
  ];
}

/** The dispatches of distortionKernels on `buffers`; each binds the buffers its binding list names. */
export function augmentDispatches(
  cache: PipelineCache, buffers: AugmentBuffers, capacity: number, image: ImageSize, a: Augmentation,
  pixels: { pixelScale: number; pixelShift: number }, output: 'u8' | 'f32', workgroupSize = 16,
): Dispatch[] {
  if (a.elastic !== undefined && !buffers.elastic) throw new Error('augmentDispatches: elastic distortion needs its field buffers');
  const { input, order, batch, elastic } = buffers;
  // augmentLines reads the blurred field by columns, elasticRows writes it by rows: one buffer under both names.
  const named: Record<string, BufferSlice | undefined> = {
    input, output: buffers.output, batch, order, blurredRows: elastic?.blurred, blurredColumns: elastic?.blurred, displacement: elastic?.displacement,
  };
  return distortionKernels(capacity, image, a, pixels, output, order ? 'dataset' : 'batch', workgroupSize).map((kernel) =>
    dispatch(cache, kernel, Object.fromEntries(kernel.bindings.map((b) => [b.name, named[b.name]!]))));
}
