// Math that gives the same bits on every adapter. WGSL leaves the precision of exp and log to the driver (lavapipe
// and SwiftShader differ in the last bits of a third of exp's results), and a driver may turn x / 255.0 into
// x · (1/255) (SwiftShader does: half the bytes of unpack4x8unorm are 1 ulp off there). Built from + − ×, which
// WGSL rounds correctly, and bit operations, in forms the drivers' compilers leave alone: they may factor or
// reassociate a·b + a·c or (a·b + c) + 1 (lavapipe does), or turn t·c with t = 1/y into c/y (one of them
// does: GELU's erf divides by y instead), but neither contracts a·b + c into fma. The activations (sigmoid, tanh,
// gelu, silu) and the losses call these rather than the drivers' exp, log and tanh, and kernels multiply by
// the reciprocal of a constant rather than divide by it (common.ts reciprocalLiteral).
// test/portableMath.test.ts compares each function's bits with its twin on the adapter it runs on.
//   portableExp(x)  e^x, within 1.5 ulp for x in [−86.9, 88.3] (1.13 seen); 0 below −86.99 (never a subnormal),
//                   +∞ above 88.37. Cody–Waite reduction x = n·ln2 + r (ln2 in two parts), |r| ≤ ln2/2, Cephes'
//                   degree-5 polynomial for e^r (Horner's scheme), then a multiply by 2ⁿ.
//   portableLog(x)  ln x for positive normal x, within 1 ulp away from x = 1 (near 1 within a few · 2⁻²⁴
//                   absolutely); x = m·2ᵉ with m in [√½, √2), Cephes' polynomial in m − 1. +∞ and NaN give
//                   themselves; zero, negatives and subnormals are outside its domain.
//   portableTanh(x) tanh x within 1.5 ulp (1.25 seen), Cephes tanhf: |x| < 0.625 as x·Q(x²) (one polynomial, so no a·b + a to factor),
//                   else ±(1 − 2/(e^{2|x|} + 1)) by portableExp (a division by a value the compiler cannot fold:
//                   SwiftShader turns a division by a constant into a multiply by its reciprocal, not this one);
//                   |x| clamped to 15, where tanh is ±1 in f32.
// Pixels stored as bytes are read as their exact integers, then scaled by one multiply and shifted by one add
// (pixels4Read): unpack4x8unorm gives x/255 on lavapipe but x·(1/255) on SwiftShader, 1 ulp apart for half the
// bytes, and a read as (x·(1/255))·scale lavapipe reassociates into x·((1/255)·scale). The bytes come out by
// shifts and a signed conversion: unpack4xU8 and unsigned conversions cost SwiftShader a quarter more in the
// MLP's u8 products (results/lavapipe/2026-12-07-byte-read/).
// Each has a TypeScript twin of the same name that rounds every step to f32 (Math.fround).
import { f32Literal } from './common.js';

/** ln 2 in two parts: n·LN2_HI is exact for |n| < 2¹⁴ (LN2_HI has 9 significant bits). */
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
const LOG2E = 1.44269504088896341;
/**
 * e^r by Horner's scheme over Cephes expf's coefficients, 1 + r + r²·P(r) written as one polynomial: Cephes'
 * own (P·r² + r) + 1 lavapipe's compiler rewrites (its bits differ from the twin's on a fifth of inputs there).
 */
const EXP_TERMS = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1, 1];
/** Cephes logf's coefficients of ln(1 + f) ≈ f − f²/2 + f³·P(f). */
const LOG_P = [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1];
/** Cephes tanhf's tanh x = x·(1 + x²·P(x²)) for |x| < 0.625, as one polynomial in x² ending in 1. */
const TANH_TERMS = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1, 1];
/** The lowest n (of 2ⁿ) kept: below it portableExp gives 0, so no subnormal reaches a driver that flushes them. */
const EXP_MIN_N = -125;

/** A WGSL literal of the f32 nearest `x` (the shortest decimal that reads back as it). */
const wgslF32 = (x: number): string => f32Literal(Math.fround(x));

/** WGSL ((c0 * x + c1) * x + …): Horner's scheme, explicit multiplies and adds. */
const horner = (coefficients: number[], x: string) =>
  coefficients.slice(1).reduce((acc, c) => `(${acc} * ${x} + ${wgslF32(c)})`, wgslF32(coefficients[0]));

/** WGSL: fn portableExp(x: f32) -> f32 (see the header). */
export const PORTABLE_EXP = `
fn portableExp(x: f32) -> f32 {
  let n = round(x * ${wgslF32(LOG2E)});
  let r = (x - n * ${wgslF32(LN2_HI)}) - n * ${wgslF32(LN2_LO)};
  let y = ${horner(EXP_TERMS, 'r')};
  // y·2ⁿ, the power of two from its bits: exact for n in [−125, 127], where the result is a normal number.
  let scaled = y * bitcast<f32>(u32(clamp(n, ${EXP_MIN_N}.0, 127.0) + 127.0) << 23u);
  let infinityBits = 0x7f800000u; // a let: WGSL refuses +∞ as a constant expression
  return select(select(scaled, bitcast<f32>(infinityBits), n > 127.0), 0.0, n < ${EXP_MIN_N}.0);
}`;

/** WGSL: fn portableLog(x: f32) -> f32 (see the header). */
export const PORTABLE_LOG = `
fn portableLog(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u) { return x; }
  let high = (bits & 0x007fffffu) > 0x3504f3u; // m ≥ √2: halve m, raise e
  let m = bitcast<f32>((bits & 0x007fffffu) | select(0x3f800000u, 0x3f000000u, high));
  let e = f32(i32(bits >> 23u) - select(127, 126, high));
  let f = m - 1.0;
  let z = f * f;
  let y = ((${horner(LOG_P, 'f')} * f) * z + e * ${wgslF32(LN2_LO)}) - 0.5 * z;
  return (f + y) + e * ${wgslF32(LN2_HI)};
}`;

/** WGSL: fn portableTanh(x: f32) -> f32 (see the header); calls portableExp. */
export const PORTABLE_TANH = `
fn portableTanh(x: f32) -> f32 {
  let a = min(abs(x), 15.0);
  let s = x * x;
  let large = 1.0 - 2.0 / (portableExp(a + a) + 1.0);
  return select(select(-large, large, x >= 0.0), x * ${horner(TANH_TERMS, 's')}, a < 0.625);
}`;

/** WGSL: fn bytes4(word: u32) -> vec4f, the four bytes of one u32 (low byte first) as exact floats 0–255. */
export const BYTES4 = `
fn bytes4(word: u32) -> vec4f { return vec4f(vec4i((vec4u(word) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(255u))); }`;

/** WGSL: PIXEL_SCALE and PIXEL_SHIFT such that a byte x reads as x/255 · scale + shift by x · PIXEL_SCALE + PIXEL_SHIFT. */
export const pixelConstants = (pixels: { pixelScale: number; pixelShift: number }) => `
const PIXEL_SCALE = ${wgslF32(pixels.pixelScale / 255)}; // scale/255: one rounded multiply of the exact byte
const PIXEL_SHIFT = ${wgslF32(pixels.pixelShift)};`;

/**
 * WGSL: fn pixels4(word: u32) -> vec4f, the four u8 pixels of one u32 as x/255 · scale + shift computed as
 * x · fround(scale/255) + shift: an exact integer, one rounded multiply, one rounded add (bytePixel is its twin).
 */
export const pixels4Read = (pixels: { pixelScale: number; pixelShift: number }) => `${BYTES4}${pixelConstants(pixels)}
fn pixels4(word: u32) -> vec4f { return bytes4(word) * PIXEL_SCALE + PIXEL_SHIFT; }`;

/** WGSL: all three, each once. */
export const PORTABLE_MATH = [PORTABLE_EXP, PORTABLE_LOG, PORTABLE_TANH].join('\n');

/** WGSL: the portable functions `code` calls (portableTanh brings portableExp), each once; '' for none. */
export function portableMathFor(code: string): string {
  const calls = (name: string) => new RegExp(`\\b${name}\\(`).test(code);
  const tanh = calls('portableTanh');
  return [
    ...(tanh || calls('portableExp') ? [PORTABLE_EXP] : []),
    ...(calls('portableLog') ? [PORTABLE_LOG] : []),
    ...(tanh ? [PORTABLE_TANH] : []),
  ].join('\n');
}

const f = Math.fround;

/** WGSL's round: to the nearest integer, ties to even. */
const roundEven = (x: number) => {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

const hornerF32 = (coefficients: number[], x: number) => coefficients.slice(1).reduce((acc, c) => f(f(acc * x) + f(c)), f(coefficients[0]));

/** portableExp's twin: the same f32 operations, in the same order. */
export function portableExp(x: number): number {
  x = f(x);
  const n = roundEven(f(x * f(LOG2E)));
  if (Number.isNaN(n)) return NaN;
  if (n < EXP_MIN_N) return 0;
  if (n > 127) return Infinity;
  const r = f(f(x - f(n * f(LN2_HI))) - f(n * f(LN2_LO)));
  const y = hornerF32(EXP_TERMS, r);
  return f(y * 2 ** n);
}

/** portableLog's twin: the same f32 operations, in the same order. */
export function portableLog(x: number): number {
  const word = new Uint32Array(new Float32Array([x]).buffer)[0];
  if ((word & 0x7f800000) === 0x7f800000) return f(x);
  const high = (word & 0x007fffff) > 0x3504f3;
  const m = new Float32Array(new Uint32Array([(word & 0x007fffff) | (high ? 0x3f000000 : 0x3f800000)]).buffer)[0];
  const e = (word >>> 23) - (high ? 126 : 127);
  const fm = f(m - 1);
  const z = f(fm * fm);
  const y = f(f(f(f(hornerF32(LOG_P, fm) * fm) * z) + f(e * f(LN2_LO))) - f(0.5 * z));
  return f(f(fm + y) + f(e * f(LN2_HI)));
}

/** portableTanh's twin: the same f32 operations, in the same order. */
export function portableTanh(x: number): number {
  x = f(x);
  if (Number.isNaN(x)) return NaN;
  const a = Math.min(Math.abs(x), 15);
  if (a < 0.625) return f(x * hornerF32(TANH_TERMS, f(x * x)));
  const large = f(1 - f(2 / f(portableExp(f(a + a)) + 1)));
  return x >= 0 ? large : -large;
}

/** pixels4's twin for one byte: x/255 · scale + shift as the kernels compute it, in f32. */
export function bytePixel(x: number, pixelScale: number, pixelShift: number): number {
  return f(f(x * f(pixelScale / 255)) + f(pixelShift));
}
