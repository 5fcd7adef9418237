// dropout:P — PyTorch's nn.Dropout(P): in training each element is kept with probability 1 − P and scaled by
// 1/(1 − P); in evaluation and prediction it is the identity (no dispatch). The mask is a hash of (seed, step,
// layer index, element) computed again in backward (shaders/dropout.ts), so runs and resumes reproduce it.
import type { DropoutShape } from '../../shaders/dropout.js';
import * as ref from '../reference/ops.js';
import type { LayerModule, LayerPlace } from './layer.js';

export interface DropoutSpec {
  kind: 'dropout';
  p: number;
}

const shape = (p: number, place: LayerPlace, rows: number): DropoutShape => ({ capacityRows: rows, width: place.outputs, p, layer: place.index });

export const dropout: LayerModule<DropoutSpec> = {
  kind: 'dropout',
  parse(argument) {
    const p = Number(argument);
    if (argument === undefined || argument.trim() === '' || !(p >= 0 && p < 1)) {
      throw new Error(`dropout takes the probability of dropping, in [0, 1) (dropout:0.2), got '${argument ?? ''}'`);
    }
    return { kind: 'dropout', p };
  },
  format: (s) => `dropout:${s.p}`,
  outputs: (_s, inputs) => inputs,
  parameters: () => [],
  isIdentity: (s, training) => !training || s.p === 0,

  forward: (b) => [b.ops.dropout(b.output, b.input, b.batch, shape(b.spec.p, b.place, b.rows))],
  backward: (b) => (b.dInput ? [b.ops.dropoutBackward(b.dInput, b.dOutput, b.inputMask ?? null, b.batch, shape(b.spec.p, b.place, b.rows))] : []),

  referenceForward(x, r) {
    if (!r.training || r.spec.p === 0) return Float64Array.from(x);
    const y = new Float64Array(x.length);
    ref.dropout(y, x, r.spec.p, (i) => ref.dropoutKeep(r.seed, r.step, r.place.index, i, r.spec.p));
    return y;
  },
  referenceBackward(dY, _x, _y, r) {
    if (r.spec.p === 0) return Float64Array.from(dY);
    const dX = new Float64Array(dY.length);
    ref.dropoutBackward(dX, dY, r.spec.p, (i) => ref.dropoutKeep(r.seed, r.step, r.place.index, i, r.spec.p));
    return dX;
  },
};
