// silu — PyTorch's nn.SiLU (swish), x σ(x) with σ the logistic function 1 / (1 + e^−x); derivative
// σ(x) (1 + x (1 − σ(x))), written so that it stays exact at both ends in f32 (σ = 1 or 0 there), where the
// form from the output, y + σ (1 − y), would cancel for large x. ONNX has no SiLU operator before opset 24:
// it is written as Mul(x, Sigmoid(x)), which is what onnxruntime fuses back into one kernel.
import { activation } from './activation.js';

const LOGISTIC = `
fn logistic(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }`;

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

export const silu = activation({
  name: 'silu',
  helpers: LOGISTIC,
  forward: 'x * logistic(x)',
  backward: 'dy * logistic(x) * (1.0 + x * (1.0 - logistic(x)))',
  f: (x) => x * logistic(x),
  df: (dy, x) => dy * logistic(x) * (1 + x * (1 - logistic(x))),
  onnx: { nodes: (graph) => graph.node('Mul', [graph.input, graph.node('Sigmoid', [graph.input])]) },
  torch: { module: 'SiLU' },
  doc: { torch: 'nn.SiLU()', notes: 'x · σ(x), also called swish; ONNX: Mul(x, Sigmoid(x))' },
});
