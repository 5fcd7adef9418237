// sigmoid — PyTorch's nn.Sigmoid, 1 / (1 + e^−x); the derivative from the output, y (1 − y). e^−x by
// portableExp (shaders/portableMath.ts), the same bits on every adapter.
import { activation } from './activation.js';

export const sigmoid = activation({
  name: 'sigmoid',
  forward: '1.0 / (1.0 + portableExp(-x))',
  backward: 'dy * y * (1.0 - y)',
  f: (x) => 1 / (1 + Math.exp(-x)),
  df: (dy, _x, y) => dy * y * (1 - y),
  onnx: { op: 'Sigmoid' },
  torch: { module: 'Sigmoid' },
  doc: { torch: 'nn.Sigmoid()', notes: '' },
});
