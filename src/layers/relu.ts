// relu — y = max(x, 0), PyTorch's nn.ReLU. It runs fused: forward as the bias+ReLU epilogue of the linear
// before it, backward as the mask (y > 0) that the next layer applies to the input gradient it makes.
import * as ref from '../reference/ops.js';
import type { LayerModule } from './layer.js';

export interface ReluSpec {
  kind: 'relu';
}

export const relu: LayerModule<ReluSpec> = {
  kind: 'relu',
  parse(argument) {
    if (argument !== undefined) throw new Error(`relu takes no argument, got 'relu:${argument}'`);
    return { kind: 'relu' };
  },
  format: () => 'relu',
  outputs: (_s, inputs) => inputs,
  parameters: () => [],
  fusedAs: 'relu',

  referenceForward(x) {
    const y = new Float64Array(x.length);
    ref.relu(y, x);
    return y;
  },
  referenceBackward(dY, _x, y) {
    const dX = Float64Array.from(dY);
    ref.reluMask(dX, y);
    return dX;
  },
};
