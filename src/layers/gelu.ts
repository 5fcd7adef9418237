// gelu — PyTorch's nn.GELU() in its exact form, x Φ(x) with Φ the standard normal CDF, ½ (1 + erf(x/√2));
// derivative Φ(x) + x φ(x). WGSL has no erf: Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7) stands in
// on the GPU, with portableExp (shaders/portableMath.ts) for e^x; the float64 twin uses a series accurate to about 1e-15.
import { activation } from './activation.js';

const ERF = `
fn erf(z: f32) -> f32 {
  // The polynomial in t = 1/y by dividing by y at each step: a compiler may turn t·c into c/y (one adapter does).
  let y = 1.0 + 0.3275911 * abs(z);
  let poly = (0.254829592 + (-0.284496736 + (1.421413741 + (-1.453152027 + 1.061405429 / y) / y) / y) / y) / y;
  return sign(z) * (1.0 - poly * portableExp(-z * z));
}
fn normalCdf(x: f32) -> f32 { return 0.5 * (1.0 + erf(x * 0.7071067811865476)); }`;

/** erf by its Taylor series (|z| < 3) or its asymptotic continued fraction (|z| ≥ 3). */
export function erf(z: number): number {
  const a = Math.abs(z);
  if (a >= 3) {
    // erfc(a) = e^{−a²}/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …))))
    let f = 0;
    for (let n = 60; n >= 1; n--) f = (n / 2) / (a + f);
    return Math.sign(z) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f));
  }
  let term = a;
  let sum = a;
  for (let n = 1; n < 100 && Math.abs(term) > 1e-17 * sum; n++) {
    term *= (-a * a) / n;
    sum += term / (2 * n + 1);
  }
  return Math.sign(z) * (2 / Math.sqrt(Math.PI)) * sum;
}

const cdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
const pdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

export const gelu = activation({
  name: 'gelu',
  helpers: ERF,
  forward: 'x * normalCdf(x)',
  backward: 'dy * (normalCdf(x) + x * 0.3989422804014327 * portableExp(-0.5 * x * x))',
  f: (x) => x * cdf(x),
  df: (dy, x) => dy * (cdf(x) + x * pdf(x)),
  onnx: { op: 'Gelu' },
  torch: { module: 'GELU' },
  doc: { torch: 'nn.GELU()', notes: 'the exact (erf) form' },
});
