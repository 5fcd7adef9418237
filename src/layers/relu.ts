// relu — y = max(x, 0), PyTorch's nn.ReLU. After linear or conv2d the fusion pass runs it as their epilogue,
// and its backward as the mask (y > 0) inside the input-gradient kernel of the layer after it.
import { activation } from './activation.js';

export const relu = activation({
  name: 'relu',
  forward: 'max(x, 0.0)',
  backward: 'select(0.0, dy, y > 0.0)',
  f: (x) => Math.max(x, 0),
  df: (dy, _x, y) => (y > 0 ? dy : 0),
  onnx: { op: 'Relu' },
  torch: { module: 'ReLU' },
  doc: { torch: 'nn.ReLU()', notes: 'after linear, conv2d or batchnorm it runs as their epilogue' },
  // After the convolution that makes its input, and before flatten: fused on both sides.
  examples: [{ layer: 'relu', input: [2, 3, 3] }],
});
