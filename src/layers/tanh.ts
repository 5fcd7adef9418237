// tanh — PyTorch's nn.Tanh; the derivative from the output, 1 − y². Forward by portableTanh
// (shaders/portableMath.ts), not the driver's tanh: the same bits on every adapter; |x| clamped to 15 there,
// where tanh is ±1 in f32.
import { activation } from './activation.js';

export const tanh = activation({
  name: 'tanh',
  forward: 'portableTanh(x)',
  backward: 'dy * (1.0 - y * y)',
  f: Math.tanh,
  df: (dy, _x, y) => dy * (1 - y * y),
  onnx: { op: 'Tanh' },
  torch: { module: 'Tanh' },
  doc: { torch: 'nn.Tanh()', notes: 'the input clamped to ±15, where tanh is ±1 in f32' },
});
