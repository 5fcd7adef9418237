// The elastic field of augmentation (Simard 2003): uniform noise per pixel and axis, smoothed by a separable
// Gaussian and scaled by α. No kernel has a barrier (SwiftShader pays dearly for one); each blur is unrolled at
// compile time into a chain of fma with constant taps, those outside the image left out, so a pass is
// Σ (taps inside) multiply-adds and no branch.
//   elasticRows          blurredRows[capacity × H × W] vec2f = Gaussian along x of the noise (one invocation per
//                        image row), then
//   elasticColumns       displacement[capacity × H × W] vec2f = α · Gaussian along y of that (one per column),
//                        for augmentImages; or
//   elasticNoiseColumns  blurredColumns[capacity × H × W] vec2f = Gaussian along y of the noise (one per column),
//                        whose blur along x augmentLines (shaders/augment.ts) does in registers.
// Both orders give the same field (the blur is linear and separable); only f32 rounding differs.
import { BATCH_STRUCT } from './batchUniform.js';
import { AUGMENT_DRAWS } from './augmentDraws.js';
import { input, output, uniform, type Binding } from './bindings.js';
import { f32Literal, flatIndex } from './common.js';

/** The elastic field's kernels: α, the Gaussian's taps (odd count, centre in the middle), the first draw's index. */
export interface ElasticShape {
  capacity: number;
  height: number;
  width: number;
  alpha: number;
  taps: ArrayLike<number>;
  /** Index of the first elastic draw: one pair (x, y) per pixel follows (drawPair). */
  drawsStart: number;
}

export const ELASTIC_ROWS_BINDINGS: Binding[] = [output('blurredRows'), uniform('batch')];
export const ELASTIC_COLUMNS_BINDINGS: Binding[] = [input('blurredRows'), output('displacement'), uniform('batch')];
export const ELASTIC_NOISE_COLUMNS_BINDINGS: Binding[] = [output('blurredColumns'), uniform('batch')];

/**
 * Σ taps[k] · term(j) over the j = i + k − R inside [0, size), k ascending: the Gaussian at i, with constant taps,
 * as a chain of fma (a quarter faster than products and sums on SwiftShader).
 */
export function blurAt(i: number, size: number, taps: ArrayLike<number>, term: (j: number) => string): string {
  const radius = (taps.length - 1) / 2;
  let sum = '';
  for (let k = Math.max(0, radius - i); k < Math.min(taps.length, size + radius - i); k++) {
    const tap = f32Literal(taps[k]);
    sum = sum ? `fma(vec2f(${tap}), ${term(i + k - radius)}, ${sum})` : `${tap} * ${term(i + k - radius)}`;
  }
  return sum;
}

const elasticHeader = (e: ElasticShape) => `
const CAPACITY = ${e.capacity}u;
const H = ${e.height}u;
const W = ${e.width}u;
const HW = ${e.height * e.width}u;
const ALPHA = ${f32Literal(e.alpha)};
${BATCH_STRUCT}`;

/**
 * The noise blurred along one axis, one invocation per image line along it, its noise drawn into registers:
 * 'x': elasticRows, blurredRows[row, y, ·]; 'y': elasticNoiseColumns, blurredColumns[row, ·, x].
 */
function noiseBlurShader(workgroupSize: number, e: ElasticShape, along: 'x' | 'y'): string {
  const [entry, out] = along === 'x' ? ['elasticRows', 'blurredRows'] : ['elasticNoiseColumns', 'blurredColumns'];
  const [size, stride, lines] = along === 'x' ? [e.width, 1, 'H'] : [e.height, e.width, 'W'];
  const draws = Array.from({ length: size }, (_, k) => `  let n${k} = drawPair(key, ${e.drawsStart}u + pixel + ${k * stride}u);`);
  const stores = Array.from({ length: size }, (_, k) => `  ${out}[first + ${k * stride}u] = ${blurAt(k, size, e.taps, (j) => `n${j}`)};`);
  return `${elasticHeader(e)}
@group(0) @binding(0) var<storage, read_write> ${out}: array<vec2f>;
@group(0) @binding(1) var<uniform> batch: Batch;
${AUGMENT_DRAWS}

@compute @workgroup_size(${workgroupSize})
fn ${entry}(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = ${flatIndex(workgroupSize)};
  if (id >= CAPACITY * ${lines}) { return; }
  let row = id / ${lines};
  if (row >= batch.rows) { return; }
  let key = rowKey(row);
  // The line's first pixel: (0, y) along x, (x, 0) along y; draws are keyed by the pixel's index in its image.
  let first = ${along === 'x' ? 'id * W' : 'row * HW + id % W'};
  let pixel = first - row * HW;
${[...draws, ...stores].join('\n')}
}
`;
}

/** blurredRows[row, y, ·] = Σ taps · noise along x: one invocation per image row. */
export const elasticRowsShader = (workgroupSize: number, e: ElasticShape): string => noiseBlurShader(workgroupSize, e, 'x');

/** displacement[row, ·, x] = α · Σ taps · blurredRows along y: one invocation per image column. */
export function elasticColumnsShader(workgroupSize: number, e: ElasticShape): string {
  const lines = Array.from({ length: e.height }, (_, y) => `  let b${y} = blurredRows[first + ${y * e.width}u];`)
    .concat(Array.from({ length: e.height }, (_, y) => `  displacement[first + ${y * e.width}u] = ALPHA * (${blurAt(y, e.height, e.taps, (j) => `b${j}`)});`));
  return `${elasticHeader(e)}
@group(0) @binding(0) var<storage, read> blurredRows: array<vec2f>;
@group(0) @binding(1) var<storage, read_write> displacement: array<vec2f>;
@group(0) @binding(2) var<uniform> batch: Batch;

@compute @workgroup_size(${workgroupSize})
fn elasticColumns(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = ${flatIndex(workgroupSize)};
  if (id >= CAPACITY * W) { return; }
  let row = id / W;
  if (row >= batch.rows) { return; }
  let first = row * HW + id % W;  // pixel (x, 0) of the row
${lines.join('\n')}
}
`;
}

/** blurredColumns[row, ·, x] = Σ taps · noise along y: one invocation per image column. */
export const elasticNoiseColumnsShader = (workgroupSize: number, e: ElasticShape): string => noiseBlurShader(workgroupSize, e, 'y');
