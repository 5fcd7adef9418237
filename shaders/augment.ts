// Augmentation: distorts a training batch as the first layer is about to read it, so distortions cost no upload
// and no host time. Three kernels, none with a barrier (SwiftShader pays dearly for one):
//   elasticRows     blurredRows[capacity × H × W] vec2f = Gaussian along x of the noise (one invocation per image row)
//   elasticColumns  displacement[capacity × H × W] vec2f = α · Gaussian along y of that (one per image column)
//   augmentImages   output[capacity × F] ← input[capacity × F] u8 pixels, packed four to a u32 (F = C·H·W,
//                   channels-last), one workgroup per batch row: u8 packed (F a multiple of 4) or f32 read as
//                   x/255 · PIXEL_SCALE + PIXEL_SHIFT. With source 'dataset', input is a whole data set kept
//                   in GPU memory and row r reads image order[start + r], so the batch is gathered and
//                   distorted in one pass (its labels by gatherLabels, shaders/gatherBatch.ts).
// Output pixel p = (x, y) samples the row's image at s = M · (p − c + d(p)) + c + t (src/augment/reference.ts is
// the float64 twin), bilinearly with zero outside. The u8 form rounds each sample to the nearest byte
// (pack4x8unorm), so the first layer reads the distorted batch exactly as it reads undistorted pixels; the f32
// form is the sample itself, normalized as the first layer would.
// The blurs are unrolled at compile time: the taps are constants and those outside the image are left out, so a
// pass is Σ (taps inside) multiply-adds and no branch.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BATCH_STRUCT } from './batchUniform.js';
import { SOURCE_ROW } from './gatherBatch.js';
import { input, output, uniform, type Binding } from './bindings.js';
import { f32Literal, flatIndex, PCG_HASH } from './common.js';

export interface AugmentShape {
  capacity: number;
  channels: number;
  height: number;
  width: number;
  pixelScale: number;
  pixelShift: number;
  /** Radians: the angle is ROTATE · draw. 0 leaves rotation out. */
  rotate: number;
  scale: number;
  shear: number;
  shift: number;
  /** Whether each pixel is displaced by d(p) from elasticColumns. */
  elastic: boolean;
  /** 'u8': bytes as the input is (needs F a multiple of 4); 'f32': normalized samples, unrounded. */
  output: 'u8' | 'f32';
  /** 'batch': input holds the batch's rows; 'dataset': a data set's, row r of the batch at order[start + r]. */
  source: 'batch' | 'dataset';
}

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
export const augmentBindings = (elastic: boolean, source: AugmentShape['source'] = 'batch'): Binding[] =>
  [input('input'), ...(source === 'dataset' ? [input('order')] : []), ...(elastic ? [input('displacement')] : []), output('output'), uniform('batch')];

const DRAWS = `${PCG_HASH}
// The key of batch row \`row\`'s draws: a hash of (seed, step, row).
fn rowKey(row: u32) -> u32 { return pcgHash(batch.seed ^ pcgHash(batch.step ^ pcgHash(row))); }
// Draw \`index\` under \`key\`, uniform in [−1, 1) on a grid of 2⁻²³ (exact in f32).
fn draw(key: u32, index: u32) -> f32 { return f32(pcgHash(key + index) >> 8u) * (1.0 / 8388608.0) - 1.0; }
// Two draws from one hash (its low and high 16 bits), each uniform on the 2¹⁶ centres of a grid of 2⁻¹⁵ over
// [−1, 1) (exact in f32): the elastic noise, where hashing is half a pass's time.
fn drawPair(key: u32, index: u32) -> vec2f {
  let h = pcgHash(key + index);
  return (vec2f(f32(h & 65535u), f32(h >> 16u)) + 0.5) * (1.0 / 32768.0) - 1.0;
}`;

/**
 * Σ taps[k] · term(j) over the j = i + k − R inside [0, size), k ascending: the Gaussian at i, with constant taps,
 * as a chain of fma (a quarter faster than products and sums on SwiftShader).
 */
function blurAt(i: number, size: number, taps: readonly string[], term: (j: number) => string): string {
  const radius = (taps.length - 1) / 2;
  let sum = '';
  for (let k = Math.max(0, radius - i); k < Math.min(taps.length, size + radius - i); k++) {
    sum = sum ? `fma(vec2f(${taps[k]}), ${term(i + k - radius)}, ${sum})` : `${taps[k]} * ${term(i + k - radius)}`;
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

/** blurredRows[row, y, ·] = Σ taps · noise along x: one invocation per image row, its noise drawn into registers. */
export function elasticRowsShader(workgroupSize: number, e: ElasticShape): string {
  const taps = Array.from(e.taps, f32Literal);
  const lines = Array.from({ length: e.width }, (_, x) => `  let n${x} = drawPair(key, ${e.drawsStart}u + base + ${x}u);`)
    .concat(Array.from({ length: e.width }, (_, x) => `  blurredRows[first + ${x}u] = ${blurAt(x, e.width, taps, (j) => `n${j}`)};`));
  return `${elasticHeader(e)}
@group(0) @binding(0) var<storage, read_write> blurredRows: array<vec2f>;
@group(0) @binding(1) var<uniform> batch: Batch;
${DRAWS}

@compute @workgroup_size(${workgroupSize})
fn elasticRows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = ${flatIndex(workgroupSize)};
  if (id >= CAPACITY * H) { return; }
  let row = id / H;
  if (row >= batch.rows) { return; }
  let key = rowKey(row);
  let base = (id % H) * W;  // the row's pixel index of (0, y)
  let first = id * W;
${lines.join('\n')}
}
`;
}

/** displacement[row, ·, x] = α · Σ taps · blurredRows along y: one invocation per image column. */
export function elasticColumnsShader(workgroupSize: number, e: ElasticShape): string {
  const taps = Array.from(e.taps, f32Literal);
  const lines = Array.from({ length: e.height }, (_, y) => `  let b${y} = blurredRows[first + ${y * e.width}u];`)
    .concat(Array.from({ length: e.height }, (_, y) => `  displacement[first + ${y * e.width}u] = ALPHA * (${blurAt(y, e.height, taps, (j) => `b${j}`)});`));
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

/** augmentImages: one workgroup per batch row samples its distorted image (see the header). */
export function augmentImagesShader(workgroupSize: number, s: AugmentShape): string {
  const hw = s.height * s.width;
  const F = hw * s.channels;
  if (!(s.capacity >= 1 && s.channels >= 1 && hw >= 1)) throw new Error(`augmentImages needs capacity, channels, height, width ≥ 1, got ${JSON.stringify(s)}`);
  if (s.output === 'u8' && F % 4 !== 0) throw new Error(`augmentImages: u8 output needs C·H·W a multiple of 4, got ${F}`);
  if (hw >= 2 ** 22) throw new Error(`augmentImages: H·W must be below 2²² (pixel coordinates are found in f32), got ${hw}`);
  const dataset = s.source === 'dataset';
  const after = 1 + Number(dataset) + Number(s.elastic); // output's binding: after input (order, displacement)
  return wgsl`
const CAPACITY = ${s.capacity}u;
const C = ${s.channels}u;
const H = ${s.height}u;
const W = ${s.width}u;
const HW = ${hw}u;
const F = ${F}u;
const WG = ${workgroupSize}u;
const ROW_WORDS = ${s.output === 'u8' ? F / 4 : F}u; // output elements per batch row
const CENTRE = vec2f(${f32Literal((s.width - 1) / 2)}, ${f32Literal((s.height - 1) / 2)});
const PIXEL_SCALE = ${f32Literal(s.pixelScale)};
const PIXEL_SHIFT = ${f32Literal(s.pixelShift)};

${BATCH_STRUCT}

@group(0) @binding(0) var<storage, read> input: array<u32>;
#if ${dataset}
@group(0) @binding(1) var<storage, read> order: array<u32>;
#endif
#if ${s.elastic}
@group(0) @binding(${after - 1}) var<storage, read> displacement: array<vec2f>;
#endif
@group(0) @binding(${after}) var<storage, read_write> output: array<${s.output === 'u8' ? 'u32' : 'f32'}>;
@group(0) @binding(${after + 1}) var<uniform> batch: Batch;
// The row's affine map, set once per invocation.
var<private> cosSinA = vec2f(1.0, 0.0);
var<private> invScale = 1.0;
var<private> shear = 0.0;
var<private> shift = vec2f(0.0);
// Where the row's image starts in input, in bytes.
var<private> origin = 0u;
${DRAWS}
#if ${dataset}
${SOURCE_ROW}
#endif

#if ${s.rotate > 0}
// cos and sin of |a| ≤ π to f32 precision (the built-ins may be off by 2⁻¹¹, a hundredth of a pixel at the
// border): a quarter turn k split off in two parts, then Taylor series on |r| ≤ π/4.
fn cosSin(a: f32) -> vec2f {
  let k = round(a * 0.63661977236);
  let r = (a - k * 1.5707963705) + k * 4.37113900018e-8;
  let r2 = r * r;
  let s = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0)))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  let q = i32(k) & 3;
  if (q == 0) { return vec2f(c, s); }
  if (q == 1) { return vec2f(-s, c); }
  if (q == 2) { return vec2f(-c, -s); }
  return vec2f(s, -c);
}
#endif

// Channel c of pixels (x, y) and (x + 1, y) of the image at origin, as x/255, or 0 outside it (there the
// clamped index reads some pixel of the image, and the select drops it). The f32 form divides as the first
// layer's unpack does, so zero ranges give its pixels bit for bit; the u8 form rounds, and shifts bytes out a
// fifth faster on SwiftShader.
fn pairAt(c: u32, x: i32, y: i32) -> vec2f {
  let base = origin + c;
  let pixel = y * i32(W) + x;
  let j0 = base + min(u32(pixel), HW - 1u) * C;
  let j1 = base + min(u32(pixel + 1), HW - 1u) * C;
  let w0 = input[j0 >> 2u];
  let w1 = input[j1 >> 2u];
#if ${s.output === 'u8'}
  let b0 = f32((w0 >> ((j0 & 3u) * 8u)) & 255u) * (1.0 / 255.0);
  let b1 = f32((w1 >> ((j1 & 3u) * 8u)) & 255u) * (1.0 / 255.0);
#else
  let b0 = unpack4x8unorm(w0)[j0 & 3u];
  let b1 = unpack4x8unorm(w1)[j1 & 3u];
#endif
  let inY = u32(y) < H;
  return vec2f(select(0.0, b0, inY && u32(x) < W), select(0.0, b1, inY && u32(x + 1) < W));
}

// Element e of the row's distorted image (pixel e / C, channel e % C), as x/255.
fn sample(row: u32, e: u32) -> f32 {
#if ${s.channels === 1}
  let i = e;
#else
  let i = e / C;
#endif
  // (x, y) of pixel i without integer division (slow on software adapters); exact for i < 2²².
  let y = floor((f32(i) + 0.5) * ${f32Literal(1 / s.width)});
  var q = vec2f(f32(i) - y * f32(W), y) - CENTRE;
#if ${s.elastic}
  q += displacement[row * HW + i];
#endif
#if ${s.shear > 0}
  q.x += shear * q.y;
#endif
#if ${s.rotate > 0}
  q = vec2f(cosSinA.x * q.x - cosSinA.y * q.y, cosSinA.y * q.x + cosSinA.x * q.y);
#endif
#if ${s.scale > 0}
  q *= invScale;
#endif
  var p = q + CENTRE;
#if ${s.shift > 0}
  p += shift;
#endif
  // Far outside is all zeros; clamping keeps the integer corners in range.
  p = clamp(p, vec2f(-2.0), vec2f(f32(W) + 1.0, f32(H) + 1.0));
  let corner = floor(p);
  let f = p - corner;
  let x0 = i32(corner.x);
  let y0 = i32(corner.y);
#if ${s.channels === 1}
  let c = 0u;
#else
  let c = e % C;
#endif
  let top = pairAt(c, x0, y0);
  let bottom = pairAt(c, x0, y0 + 1);
  return (1.0 - f.x) * (1.0 - f.y) * top.x + f.x * (1.0 - f.y) * top.y
    + (1.0 - f.x) * f.y * bottom.x + f.x * f.y * bottom.y;
}

@compute @workgroup_size(${workgroupSize})
fn augmentImages(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = wid.x + wid.y * groups.x;
  if (row >= CAPACITY) { return; }
  if (row >= batch.rows) {
    for (var k = lane; k < ROW_WORDS; k += WG) { output[row * ROW_WORDS + k] = ${s.output === 'u8' ? '0u' : '0.0'}; }
    return;
  }
#if ${dataset}
  origin = sourceRow(row) * F;
#else
  origin = row * F;
#endif
  let key = rowKey(row);
#if ${s.rotate > 0}
  cosSinA = cosSin(${f32Literal(s.rotate)} * draw(key, 0u));
#endif
#if ${s.scale > 0}
  invScale = 1.0 / (1.0 + ${f32Literal(s.scale)} * draw(key, 1u));
#endif
#if ${s.shear > 0}
  shear = ${f32Literal(s.shear)} * draw(key, 2u);
#endif
#if ${s.shift > 0}
  shift = ${f32Literal(s.shift)} * vec2f(draw(key, 3u), draw(key, 4u));
#endif
#if ${s.output === 'u8'}
  for (var k = lane; k < ROW_WORDS; k += WG) {
    // Four samples in a loop: written out in one expression, they take SwiftShader minutes to compile.
    var v = vec4f(0.0);
    for (var b = 0u; b < 4u; b++) { v[b] = sample(row, 4u * k + b); }
    output[row * ROW_WORDS + k] = pack4x8unorm(v);
  }
#else
  for (var e = lane; e < F; e += WG) { output[row * F + e] = sample(row, e) * PIXEL_SCALE + PIXEL_SHIFT; }
#endif
}
`;
}
