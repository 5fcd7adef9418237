// Float64 reference of the whole MLP step (forward, loss, backward), built from the reference ops, with the
// engine's layout: weight l is [in × out], pixels are u8 read as x/255 · scale + shift.
import { biasGrad, biasRelu, matmulNN, matmulNT, matmulTN, reluMask, softmaxCrossEntropy } from './ops.js';
import { mlpLayers } from '../engine/mlp.js';
import { slotOf, type ParamLayout } from '../engine/paramLayout.js';

export interface ReferenceStep {
  loss: number;
  correct: number;
  /** Gradients in the flat layout (padding zero). */
  grads: Float64Array;
  logits: Float64Array;
}

export function mlpForwardBackward(
  params: ArrayLike<number>, layout: ParamLayout, sizes: number[],
  pixels: Uint8Array, labels: ArrayLike<number>, rows: number, pixelScale = 1, pixelShift = 0,
): ReferenceStep {
  const layers = mlpLayers(sizes);
  const weight = (name: string) => {
    const s = slotOf(layout, name);
    return Float64Array.from({ length: s.length }, (_, i) => params[s.offset + i]);
  };
  const x = Float64Array.from(pixels.subarray(0, rows * sizes[0]), (p) => (p / 255) * pixelScale + pixelShift);
  const acts: Float64Array[] = [];
  layers.forEach((layer, l) => {
    const h = new Float64Array(rows * layer.outputs);
    matmulNN(h, l === 0 ? x : acts[l - 1], weight(layer.weight), rows, layer.outputs, layer.inputs);
    biasRelu(h, weight(layer.bias), rows, layer.outputs, l < layers.length - 1);
    acts.push(h);
  });
  const last = layers.length - 1;
  const classes = sizes[sizes.length - 1];
  const dh = new Float64Array(rows * classes);
  const losses = new Float64Array(rows);
  const correct = softmaxCrossEntropy(dh, losses, acts[last], labels, rows, classes);
  const grads = new Float64Array(layout.totalLength);
  let dOut = dh;
  for (let l = last; l >= 0; l--) {
    const layer = layers[l];
    const w = slotOf(layout, layer.weight);
    const b = slotOf(layout, layer.bias);
    const dW = new Float64Array(w.length);
    matmulTN(dW, l === 0 ? x : acts[l - 1], dOut, layer.inputs, layer.outputs, rows);
    grads.set(dW, w.offset);
    const db = new Float64Array(b.length);
    biasGrad(db, dOut, rows, layer.outputs);
    grads.set(db, b.offset);
    if (l > 0) {
      const dIn = new Float64Array(rows * layer.inputs);
      matmulNT(dIn, dOut, weight(layer.weight), rows, layer.inputs, layer.outputs);
      reluMask(dIn, acts[l - 1]);
      dOut = dIn;
    }
  }
  return { loss: losses.reduce((a, b) => a + b, 0) / rows, correct, grads, logits: acts[last] };
}
