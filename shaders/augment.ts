// Augmentation's samplers: distort a training batch as the first layer is about to read it, so distortions cost
// no upload and no host time. Output pixel p = (x, y) samples the row's image at s = M · (p − c + d(p)) + c + t
// (src/augment/reference.ts is the float64 twin), bilinearly with zero outside; d is the elastic field
// (shaders/elastic.ts). Samples are in byte units (0–255, exact at the pixels). The u8 form rounds each sample to
// the nearest byte, so the first layer reads the distorted batch exactly as it reads undistorted pixels; the f32
// form is the sample normalized as the first layer reads a byte (x · PIXEL_SCALE + PIXEL_SHIFT, PIXEL_SCALE =
// scale/255: shaders/portableMath.ts), so zero ranges give its pixels bit for bit on every driver. Images are
// channels-last, F = C·H·W.
// Two kernels, for two layouts of the images they read:
//   augmentImages  output[capacity × F] from a batch of u8 pixels, packed four to a u32 (source 'batch'), or from
//                  a data set kept in GPU memory as quads (source 'dataset': row r reads image order[start + r], so
//                  the batch is gathered and distorted in one pass; its labels by gatherLabels). One workgroup per
//                  batch row, its invocations striding over the row's output words; d from elasticColumns.
//   augmentLines   the same from quads, one invocation per image line, unrolled: the line's W samples share
//                  their row's constants, and with an elastic field the invocation blurs its line of
//                  elasticNoiseColumns along x in registers, so the field takes one pass, not two.
// Quads (src/augment/quads.ts): each image as a grid of (H + 1) × (W + 1) cells, cell (x0 + 1, y0 + 1) holding, per
// channel, the four pixels around (x0 + ½, y0 + ½) in one u32 (bytes: (x0, y0), (x0 + 1, y0), (x0, y0 + 1),
// (x0 + 1, y0 + 1); zero outside the image), so a bilinear sample is one load, not four.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BATCH_STRUCT } from './batchUniform.js';
import { AUGMENT_DRAWS } from './augmentDraws.js';
import { blurAt } from './elastic.js';
import { SOURCE_ROW } from './gatherBatch.js';
import { input, output, uniform, type Binding } from './bindings.js';
import { f32Literal, flatIndex } from './common.js';
import { BYTES4, pixelConstants } from './portableMath.js';
import { quadWordsPerImage } from './quadLayout.js';

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
  /** Whether each pixel is displaced by an elastic field. */
  elastic: boolean;
  /** 'u8': bytes as the input is (needs F a multiple of 4); 'f32': normalized samples, unrounded. */
  output: 'u8' | 'f32';
  /** 'batch': input holds the batch's rows as bytes; 'dataset': a data set's as quads, batch row r its image order[start + r]. */
  source: 'batch' | 'dataset';
}

/** augmentLines's elastic field: α and the Gaussian's taps, to blur elasticNoiseColumns's output along x. */
export interface LineBlur {
  alpha: number;
  taps: ArrayLike<number>;
}

/** Most samples in one line of augmentLines (W·C): each is a few instructions of unrolled code. */
export const MAX_LINE_SAMPLES = 128;

/** Whether augmentLines takes this shape: lines of at most MAX_LINE_SAMPLES, whole u32 words of bytes in the u8 form. */
export const linesFit = (s: Pick<AugmentShape, 'channels' | 'width' | 'output'>): boolean =>
  s.channels * s.width <= MAX_LINE_SAMPLES && (s.output === 'f32' || (s.channels * s.width) % 4 === 0);

export { quadWordsPerImage };

export const augmentBindings = (elastic: boolean, source: AugmentShape['source'] = 'batch'): Binding[] =>
  [input('input'), ...(source === 'dataset' ? [input('order')] : []), ...(elastic ? [input('displacement')] : []), output('output'), uniform('batch')];
export const augmentLinesBindings = (elastic: boolean): Binding[] =>
  [input('input'), input('order'), ...(elastic ? [input('blurredColumns')] : []), output('output'), uniform('batch')];

function checkShape(kernel: string, s: AugmentShape): void {
  const hw = s.height * s.width;
  const F = hw * s.channels;
  if (!(s.capacity >= 1 && s.channels >= 1 && hw >= 1)) throw new Error(`${kernel} needs capacity, channels, height, width ≥ 1, got ${JSON.stringify(s)}`);
  if (s.output === 'u8' && F % 4 !== 0) throw new Error(`${kernel}: u8 output needs C·H·W a multiple of 4, got ${F}`);
  if (hw >= 2 ** 22) throw new Error(`${kernel}: H·W must be below 2²² (pixel coordinates are found in f32), got ${hw}`);
}

/** Constants, the Batch uniform, the row's affine map as private variables, the draws, and sourcePoint. */
function samplerCommon(s: AugmentShape): string {
  return wgsl`
const CAPACITY = ${s.capacity}u;
const C = ${s.channels}u;
const H = ${s.height}u;
const W = ${s.width}u;
const HW = ${s.height * s.width}u;
const F = ${s.channels * s.height * s.width}u;
const QUAD_WORDS = ${quadWordsPerImage(s.channels, s.height, s.width)}u; // one image's quads
const CENTRE = vec2f(${f32Literal((s.width - 1) / 2)}, ${f32Literal((s.height - 1) / 2)});
${pixelConstants(s)}
${BYTES4}

${BATCH_STRUCT}
// The row's affine map, set once per invocation (setAffine).
var<private> cosSinA = vec2f(1.0, 0.0);
var<private> invScale = 1.0;
var<private> shear = 0.0;
var<private> shift = vec2f(0.0);
// Where the row's image starts in input, in bytes ('batch') or u32 words of quads ('dataset').
var<private> origin = 0u;
${AUGMENT_DRAWS}

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

// The row's draws 0–4: angle, scale, shear, shift x and y.
fn setAffine(key: u32) {
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
}

// Where the output pixel at q (centred, displaced: p − c + d(p)) samples the source: M · q + c + t.
fn sourcePoint(q0: vec2f) -> vec2f {
  var q = q0;
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
  return p;
}

// Four samples rounded to the nearest bytes (halves up, as pack4x8unorm rounds), low byte first.
fn packBytes(v: vec4f) -> u32 {
  let q = vec4u(floor(clamp(v, vec4f(0.0), vec4f(255.0)) + 0.5));
  return q.x | (q.y << 8u) | (q.z << 16u) | (q.w << 24u);
}

// The bilinear sample at p with weights f from the four pixels around it (x0, y0), (x0 + 1, y0), (x0, y0 + 1),
// (x0 + 1, y0 + 1).
fn bilinear(f: vec2f, v: vec4f) -> f32 {
  return (1.0 - f.x) * (1.0 - f.y) * v.x + f.x * (1.0 - f.y) * v.y + (1.0 - f.x) * f.y * v.z + f.x * f.y * v.w;
}

#if ${s.source === 'dataset'}
${SOURCE_ROW}

// Channel c at p from the row's quads, in byte units. Beyond [−1, W] × [−1, H] every corner is outside, so p is
// clamped there. At p.x = W the corner is the cell past the line's last, which is the next line's first: its
// pixels x0 = −1 are zero, and x0 + 1 weighs 1 − f.x = 0; at p.y = H it is the next image's first line (pixels
// y0 = −1, zero) or the padding after the last.
fn quadSample(p: vec2f, c: u32) -> f32 {
  let pc = clamp(p, vec2f(-1.0), vec2f(f32(W), f32(H)));
  let corner = floor(pc);
  let v = bytes4(input[origin + (u32(corner.y + 1.0) * (W + 1u) + u32(corner.x + 1.0)) * C + c]);
  return bilinear(pc - corner, v);
}
#endif`;
}

/** augmentImages: one workgroup per batch row samples its distorted image (see the header). */
export function augmentImagesShader(workgroupSize: number, s: AugmentShape): string {
  checkShape('augmentImages', s);
  const F = s.channels * s.height * s.width;
  const dataset = s.source === 'dataset';
  const after = 1 + Number(dataset) + Number(s.elastic); // output's binding: after input (order, displacement)
  return wgsl`${samplerCommon(s)}
const WG = ${workgroupSize}u;
const ROW_WORDS = ${s.output === 'u8' ? F / 4 : F}u; // output elements per batch row

@group(0) @binding(0) var<storage, read> input: array<u32>;
#if ${dataset}
@group(0) @binding(1) var<storage, read> order: array<u32>;
#endif
#if ${s.elastic}
@group(0) @binding(${after - 1}) var<storage, read> displacement: array<vec2f>;
#endif
@group(0) @binding(${after}) var<storage, read_write> output: array<${s.output === 'u8' ? 'u32' : 'f32'}>;
@group(0) @binding(${after + 1}) var<uniform> batch: Batch;

#if ${!dataset}
// Channel c of pixels (x, y) and (x + 1, y) of the image at origin, in byte units, or 0 outside it (there the
// clamped index reads some pixel of the image, and the select drops it).
fn pairAt(c: u32, x: i32, y: i32) -> vec2f {
  let base = origin + c;
  let pixel = y * i32(W) + x;
  let j0 = base + min(u32(pixel), HW - 1u) * C;
  let j1 = base + min(u32(pixel + 1), HW - 1u) * C;
  let w0 = input[j0 >> 2u];
  let w1 = input[j1 >> 2u];
  let b0 = f32(i32((w0 >> ((j0 & 3u) * 8u)) & 255u));
  let b1 = f32(i32((w1 >> ((j1 & 3u) * 8u)) & 255u));
  let inY = u32(y) < H;
  return vec2f(select(0.0, b0, inY && u32(x) < W), select(0.0, b1, inY && u32(x + 1) < W));
}
#endif

// Element e of the row's distorted image (pixel e / C, channel e % C), in byte units.
fn sample(row: u32, e: u32) -> f32 {
#if ${s.channels === 1}
  let i = e;
  let c = 0u;
#else
  let i = e / C;
  let c = e % C;
#endif
  // (x, y) of pixel i without integer division (slow on software adapters); exact for i < 2²².
  let y = floor((f32(i) + 0.5) * ${f32Literal(1 / s.width)});
  var q = vec2f(f32(i) - y * f32(W), y) - CENTRE;
#if ${s.elastic}
  q += displacement[row * HW + i];
#endif
  let p = sourcePoint(q);
#if ${dataset}
  return quadSample(p, c);
#else
  // Far outside is all zeros; clamping keeps the integer corners in range.
  let pc = clamp(p, vec2f(-2.0), vec2f(f32(W) + 1.0, f32(H) + 1.0));
  let corner = floor(pc);
  let x0 = i32(corner.x);
  let y0 = i32(corner.y);
  return bilinear(pc - corner, vec4f(pairAt(c, x0, y0), pairAt(c, x0, y0 + 1)));
#endif
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
  origin = sourceRow(row) * QUAD_WORDS;
#else
  origin = row * F;
#endif
  setAffine(rowKey(row));
#if ${s.output === 'u8'}
  for (var k = lane; k < ROW_WORDS; k += WG) {
    // Four samples in a loop: written out in one expression, they take SwiftShader minutes to compile.
    var v = vec4f(0.0);
    for (var b = 0u; b < 4u; b++) { v[b] = sample(row, 4u * k + b); }
    output[row * ROW_WORDS + k] = packBytes(v);
  }
#else
  for (var e = lane; e < F; e += WG) { output[row * F + e] = sample(row, e) * PIXEL_SCALE + PIXEL_SHIFT; }
#endif
}
`;
}

/** augmentLines: one invocation per image line of a batch row, reading quads (see the header). */
export function augmentLinesShader(workgroupSize: number, s: AugmentShape, blur?: LineBlur): string {
  checkShape('augmentLines', s);
  if (s.source !== 'dataset') throw new Error('augmentLines reads a data set kept as quads (source dataset)');
  if (!linesFit(s)) throw new Error(`augmentLines: a line of ${s.channels}×${s.width} samples is over ${MAX_LINE_SAMPLES} or, as u8, not whole words`);
  if (s.elastic !== (blur !== undefined)) throw new Error('augmentLines: an elastic field needs its blur (α and taps), and only then');
  const [C, W] = [s.channels, s.width];
  const samples = C * W;
  const lineOut = s.output === 'u8' ? samples / 4 : samples; // output elements per line
  const statements: string[] = [];
  if (blur) statements.push(...Array.from({ length: W }, (_, x) => `  let b${x} = blurredColumns[id * W + ${x}u];`));
  for (let x = 0; x < W; x++) {
    const displaced = blur ? ` + ALPHA * (${blurAt(x, W, blur.taps, (j) => `b${j}`)})` : '';
    statements.push(`  let p${x} = sourcePoint(vec2f(${f32Literal(x - (W - 1) / 2)}, yc)${displaced});`);
    for (let c = 0; c < C; c++) statements.push(`  let s${x * C + c} = quadSample(p${x}, ${c}u);`);
  }
  const writes = s.output === 'u8'
    ? Array.from({ length: lineOut }, (_, k) => `  output[id * LINE_OUT + ${k}u] = packBytes(vec4f(${[0, 1, 2, 3].map((b) => `s${4 * k + b}`).join(', ')}));`)
    : Array.from({ length: lineOut }, (_, e) => `  output[id * LINE_OUT + ${e}u] = s${e} * PIXEL_SCALE + PIXEL_SHIFT;`);
  const field = Number(s.elastic);
  return wgsl`${samplerCommon(s)}
const LINE_OUT = ${lineOut}u; // output elements per image line
#if ${s.elastic}
const ALPHA = ${f32Literal(blur?.alpha ?? 0)};
#endif

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read> order: array<u32>;
#if ${s.elastic}
@group(0) @binding(2) var<storage, read> blurredColumns: array<vec2f>;
#endif
@group(0) @binding(${2 + field}) var<storage, read_write> output: array<${s.output === 'u8' ? 'u32' : 'f32'}>;
@group(0) @binding(${3 + field}) var<uniform> batch: Batch;

@compute @workgroup_size(${workgroupSize})
fn augmentLines(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = ${flatIndex(workgroupSize)}; // line y of batch row id / H
  if (id >= CAPACITY * H) { return; }
  let row = id / H;
  if (row >= batch.rows) {
    for (var k = 0u; k < LINE_OUT; k++) { output[id * LINE_OUT + k] = ${s.output === 'u8' ? '0u' : '0.0'}; }
    return;
  }
  origin = sourceRow(row) * QUAD_WORDS;
  setAffine(rowKey(row));
  let yc = f32(id - row * H) - CENTRE.y;
${statements.join('\n')}
${writes.join('\n')}
}
`;
}
