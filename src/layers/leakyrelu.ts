// leakyrelu[:SLOPE] — PyTorch's nn.LeakyReLU(negative_slope=SLOPE), y = x for x > 0 and SLOPE · x otherwise,
// SLOPE 0.01 by default as there; the derivative 1 or SLOPE by the sign of x. Its backward reads x, so in
// training the fusion pass runs its forward on its own and its backward inside the next layer's kernel.
import { activation } from './activation.js';

/** leakyrelu's argument. */
export type LeakyReluArguments = {
  /** y = slope · x for x ≤ 0 (PyTorch's negative_slope); 0.01 when left out. */
  slope: number;
};

export const leakyrelu = activation<'leakyrelu', LeakyReluArguments>({
  name: 'leakyrelu',
  arguments: { slope: { default: 0.01, written: 'SLOPE' } },
  forward: 'select(slope * x, x, x > 0.0)',
  backward: 'select(slope * dy, dy, x > 0.0)',
  f: (x, a) => (x > 0 ? x : a.slope * x),
  df: (dy, x, _y, a) => (x > 0 ? dy : a.slope * dy),
  onnx: { op: 'LeakyRelu', attributes: (a) => ({ alpha: { float: a.slope } }) },
  torch: { module: 'LeakyReLU', args: (a) => ({ negative_slope: a.slope }) },
  doc: { torch: 'nn.LeakyReLU(negative_slope=SLOPE)', notes: 'y = x for x > 0, SLOPE · x otherwise' },
  examples: [{ layer: 'leakyrelu:0.2', input: [6] }, { layer: 'leakyrelu:-1.5', input: [2, 3, 3] }],
  refuses: ['leakyrelu:0.2:0.3', 'leakyrelu:', 'leakyrelu:nan'],
});
