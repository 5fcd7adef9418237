// tanh — PyTorch's nn.Tanh; the derivative from the output, 1 − y². The input is clamped to ±15 first, where
// tanh is ±1 in f32, because some adapters compute tanh through exp and overflow for large |x|.
import { activation } from './activation.js';

export const tanh = activation({
  name: 'tanh',
  forward: 'tanh(clamp(x, -15.0, 15.0))',
  backward: 'dy * (1.0 - y * y)',
  f: Math.tanh,
  df: (dy, _x, y) => dy * (1 - y * y),
  onnx: { op: 'Tanh' },
  torch: { module: 'Tanh' },
  doc: { torch: 'nn.Tanh()', notes: 'the input clamped to ±15, where tanh is ±1 in f32' },
});
