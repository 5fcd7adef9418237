// relu — y = max(x, 0), PyTorch's nn.ReLU; the derivative from the output (1 where y > 0). The fusion pass
// runs it inside its neighbours' kernels as it does any activation (src/engine/fusion.ts).
import { activation } from './activation.js';

export const relu = activation({
  name: 'relu',
  forward: 'max(x, 0.0)',
  backward: 'select(0.0, dy, y > 0.0)',
  f: (x) => Math.max(x, 0),
  df: (dy, _x, y) => (y > 0 ? dy : 0),
  onnx: { op: 'Relu' },
  torch: { module: 'ReLU' },
  doc: { torch: 'nn.ReLU()', notes: 'max(x, 0)' },
  // After the convolution that makes its input, and before flatten: fused on both sides.
  examples: [{ layer: 'relu', input: [2, 3, 3] }],
});
