// augmentImages: distorts a training batch as the first layer is about to read it, so distortions cost no upload
// and no host time. One workgroup per row:
//   output[capacity × F] f32 (F = C·H·W, channels-last)  ←  input[capacity × F] u8 pixels, packed four to a u32
// Output pixel p = (x, y) samples the row's image at s = M · (p − c + d(p)) + c + t (src/augment/reference.ts is
// the float64 twin), bilinearly with zero outside, then reads it as x/255 · PIXEL_SCALE + PIXEL_SHIFT, as the
// first layer reads undistorted pixels. Elastic d(p): uniform noise per pixel and axis in workgroup memory, the
// Gaussian along rows into a second array, then along columns while sampling (two barriers).
// Every draw is pcgHash of (seed, step, row, index) from the Batch uniform: one pipeline serves every step.
// Rows past the batch's rows are zeroed. Variants: workgroupSize; which distortions run is compiled in (a range
// of 0 compiles its term away, so zero ranges give the input bit for bit). Elastic needs H·W ≤ 1024.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BATCH_STRUCT } from './batchUniform.js';
import { input, output, uniform, type Binding } from './bindings.js';
import { f32Literal, PCG_HASH } from './common.js';

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
  /** α and the Gaussian's taps (odd count, centre in the middle), or none. */
  elastic?: { alpha: number; taps: ArrayLike<number> };
  /** Index of the first elastic draw (two per pixel follow). */
  elasticDrawsStart: number;
}

export const AUGMENT_BINDINGS: Binding[] = [input('input'), output('output'), uniform('batch')];

export function augmentImagesShader(workgroupSize: number, s: AugmentShape): string {
  const hw = s.height * s.width;
  if (!(s.capacity >= 1 && s.channels >= 1 && hw >= 1)) throw new Error(`augmentImages needs capacity, channels, height, width ≥ 1, got ${JSON.stringify(s)}`);
  if (s.elastic && hw > 1024) throw new Error(`augmentImages: elastic distortion needs H·W ≤ 1024, got ${s.height}×${s.width}`);
  const taps = s.elastic ? Array.from(s.elastic.taps, f32Literal) : [];
  return wgsl`
const CAPACITY = ${s.capacity}u;
const C = ${s.channels}u;
const H = ${s.height}u;
const W = ${s.width}u;
const HW = ${hw}u;
const F = ${hw * s.channels}u;
const WG = ${workgroupSize}u;
const CENTRE = vec2f(${f32Literal((s.width - 1) / 2)}, ${f32Literal((s.height - 1) / 2)});
const PIXEL_SCALE = ${f32Literal(s.pixelScale)};
const PIXEL_SHIFT = ${f32Literal(s.pixelShift)};

${BATCH_STRUCT}

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> batch: Batch;
${PCG_HASH}

// Draw \`index\` of batch row \`row\`, uniform in [−1, 1) on a grid of 2⁻²³ (exact in f32).
fn draw(row: u32, index: u32) -> f32 {
  let h = pcgHash(batch.seed ^ pcgHash(batch.step ^ pcgHash(row ^ pcgHash(index | 0x80000000u))));
  return f32(h >> 8u) * (1.0 / 8388608.0) - 1.0;
}

// Channel c of the row's pixel (x, y) as x/255, or 0 outside the image.
fn at(row: u32, c: u32, x: i32, y: i32) -> f32 {
  if (x < 0 || y < 0 || x >= i32(W) || y >= i32(H)) { return 0.0; }
  let i = row * F + (u32(y) * W + u32(x)) * C + c;
  return unpack4x8unorm(input[i / 4u])[i % 4u];
}

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

#if ${s.elastic !== undefined}
const ALPHA = ${f32Literal(s.elastic?.alpha ?? 0)};
const TAPS = ${taps.length}u;
const RADIUS = ${(taps.length - 1) / 2}u;
var<private> tap: array<f32, ${Math.max(taps.length, 1)}> = array<f32, ${Math.max(taps.length, 1)}>(${taps.join(', ') || '0.0'});
var<workgroup> noise: array<vec2f, HW>;
var<workgroup> blurredRows: array<vec2f, HW>;
#endif

@compute @workgroup_size(${workgroupSize})
fn augmentImages(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = wid.x + wid.y * groups.x;
  if (row >= CAPACITY) { return; }
  if (row >= batch.rows) {
    for (var i = lane; i < F; i += WG) { output[row * F + i] = 0.0; }
    return;
  }
#if ${s.elastic !== undefined}
  for (var i = lane; i < HW; i += WG) {
    noise[i] = vec2f(draw(row, ${s.elasticDrawsStart}u + 2u * i), draw(row, ${s.elasticDrawsStart + 1}u + 2u * i));
  }
  workgroupBarrier();
  // Along x: taps k with 0 ≤ x + k − R < W.
  for (var i = lane; i < HW; i += WG) {
    let x = i % W;
    var sum = vec2f(0.0);
    for (var k = select(0u, RADIUS - x, x < RADIUS); k < min(TAPS, W + RADIUS - x); k++) { sum += tap[k] * noise[i + k - RADIUS]; }
    blurredRows[i] = sum;
  }
  workgroupBarrier();
#endif
#if ${s.rotate > 0}
  let angle = ${f32Literal(s.rotate)} * draw(row, 0u);
  let cs = cosSin(angle);
  let cosA = cs.x;
  let sinA = cs.y;
#endif
#if ${s.scale > 0}
  let invScale = 1.0 / (1.0 + ${f32Literal(s.scale)} * draw(row, 1u));
#endif
#if ${s.shear > 0}
  let shear = ${f32Literal(s.shear)} * draw(row, 2u);
#endif
#if ${s.shift > 0}
  let t = ${f32Literal(s.shift)} * vec2f(draw(row, 3u), draw(row, 4u));
#endif
  for (var i = lane; i < HW; i += WG) {
    let y = i / W;
    var q = vec2f(f32(i % W), f32(y)) - CENTRE;
#if ${s.elastic !== undefined}
    // Along y, then scaled: the displacement d(p).
    var d = vec2f(0.0);
    for (var k = select(0u, RADIUS - y, y < RADIUS); k < min(TAPS, H + RADIUS - y); k++) { d += tap[k] * blurredRows[i + (k - RADIUS) * W]; }
    q += ALPHA * d;
#endif
#if ${s.shear > 0}
    q.x += shear * q.y;
#endif
#if ${s.rotate > 0}
    q = vec2f(cosA * q.x - sinA * q.y, sinA * q.x + cosA * q.y);
#endif
#if ${s.scale > 0}
    q *= invScale;
#endif
    var p = q + CENTRE;
#if ${s.shift > 0}
    p += t;
#endif
    // Far outside is all zeros; clamping keeps the integer corners in range.
    p = clamp(p, vec2f(-2.0), vec2f(f32(W) + 1.0, f32(H) + 1.0));
    let corner = floor(p);
    let f = p - corner;
    let x0 = i32(corner.x);
    let y0 = i32(corner.y);
    for (var c = 0u; c < C; c++) {
      let v = (1.0 - f.x) * (1.0 - f.y) * at(row, c, x0, y0) + f.x * (1.0 - f.y) * at(row, c, x0 + 1, y0)
        + (1.0 - f.x) * f.y * at(row, c, x0, y0 + 1) + f.x * f.y * at(row, c, x0 + 1, y0 + 1);
      output[row * F + i * C + c] = v * PIXEL_SCALE + PIXEL_SHIFT;
    }
  }
}
`;
}
