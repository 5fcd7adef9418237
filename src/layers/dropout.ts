// dropout:P — PyTorch's nn.Dropout(P): in training each element is kept with probability 1 − P and scaled by
// 1/(1 − P); in evaluation and prediction it is the identity (no dispatch). The mask is a hash of (seed, step,
// layer index, element) computed again in backward (shaders/dropout.ts), so runs and resumes reproduce it.
// This module holds the layer's GPU ops and their float64 twins, under the WGSL entry points' names.
import { BadInputError } from '../errors.js';
import {
  DROPOUT_BINDINGS, dropoutBackwardBindings, dropoutBackwardShader, dropoutShader, dropoutThreshold, type DropoutShape,
} from '../../shaders/dropout.js';
import { dispatch, type BufferSlice, type Dispatch, type Kernel } from '../gpu/dispatch.js';
import { activationBuffers, ELEMENTWISE_WORKGROUP, fusedLabel, type FusedActivation, type Ops } from '../gpu/ops.js';
import { activationGradBindings, type ElementwiseOp } from '../../shaders/elementwise.js';
import type { LayerModule, LayerPlace } from './layer.js';
import { pcgHash } from '../gpu/random.js';

/** Inverted dropout, written 'dropout:P': nn.Dropout(P); off in evaluate and predict. */
export interface DropoutSpec {
  /** The layer kind. */
  kind: 'dropout';
  /** The probability of zeroing each value in training, in [0, 1). */
  p: number;
}

/** The GPU ops: output = dropout(input), dInput = dropoutBackward(dOutput) (then a fused activation's backward, from the fusion pass). */
/** The kernels, as values (see src/gpu/dispatch.ts Kernel). */
export const kernels = {
  dropout(s: DropoutShape): Kernel {
    const count = s.capacityRows * s.width;
    return {
      label: `dropout ${s.capacityRows}×${s.width} p=${s.p}`, code: dropoutShader(ELEMENTWISE_WORKGROUP, s), entryPoint: 'dropout', bindings: DROPOUT_BINDINGS,
      invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP, cost: { flops: count, bytes: 8 * count },
    };
  },
  /** `activation`: the fusion pass's activation before it, whose backward it applies (reading its x and/or y). */
  dropoutBackward(s: DropoutShape, activation?: ElementwiseOp): Kernel {
    const count = s.capacityRows * s.width;
    return {
      label: `dropoutBackward ${s.capacityRows}×${s.width} p=${s.p}${fusedLabel(activation)}`, code: dropoutBackwardShader(ELEMENTWISE_WORKGROUP, s, activation), entryPoint: 'dropoutBackward',
      bindings: dropoutBackwardBindings(activation), invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP, cost: { flops: count, bytes: (8 + 4 * activationGradBindings(activation).length) * count },
    };
  },
};

export const gpu = {
  dropout(ops: Ops, output: BufferSlice, input: BufferSlice, batch: BufferSlice, s: DropoutShape): Dispatch {
    return dispatch(ops.cache, kernels.dropout(s), { input, output, batch });
  },
  dropoutBackward(ops: Ops, dInput: BufferSlice, dOutput: BufferSlice, activation: FusedActivation | undefined, batch: BufferSlice, s: DropoutShape): Dispatch {
    return dispatch(ops.cache, kernels.dropoutBackward(s, activation?.op), { dOutput, dInput, batch, ...activationBuffers(activation) });
  },
};

/** The float64 twins, with the kernel's mask. */
export const reference = {
  /** Whether dropout keeps element `index` of layer `layer` at training step `step`. */
  dropoutKeep(seed: number, step: number, layer: number, index: number, p: number): boolean {
    return pcgHash(seed ^ pcgHash(step ^ pcgHash(layer ^ pcgHash(index)))) >= dropoutThreshold(p);
  },
  /** out[i] = keep(i) ? x[i] / (1 − p) : 0, over a [rows × width] batch. */
  dropout(out: Float64Array, x: ArrayLike<number>, p: number, keep: (i: number) => boolean): void {
    for (let i = 0; i < out.length; i++) out[i] = keep(i) ? x[i] / (1 - p) : 0;
  },
  /** dX[i] = keep(i) ? dY[i] / (1 − p) : 0 */
  dropoutBackward(dX: Float64Array, dY: ArrayLike<number>, p: number, keep: (i: number) => boolean): void {
    for (let i = 0; i < dX.length; i++) dX[i] = keep(i) ? dY[i] / (1 - p) : 0;
  },
};

const shape = (p: number, place: LayerPlace, rows: number): DropoutShape => ({ capacityRows: rows, width: place.outputs, p, layer: place.index });

export const dropout: LayerModule<DropoutSpec> = {
  kind: 'dropout',
  parse(args) {
    const [argument] = args;
    // A decimal such as 0.2, .2 or 1e-7 (how a small rate is written back): Number() would also read '0x0' and ' '.
    const p = args.length === 1 && /^(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(argument.trim()) ? Number(argument) : NaN;
    if (!(p >= 0 && p < 1)) {
      throw new BadInputError(`dropout takes the probability of dropping, in [0, 1) (dropout:0.2), got '${args.join(':')}'`);
    }
    return { kind: 'dropout', p };
  },
  format: (s) => `dropout:${s.p}`,
  outputShape: (_s, input) => input,
  parameters: () => [],
  fuses: { inputGrad: true },
  isIdentity: (s, training) => !training || s.p === 0,

  forward: (b) => [gpu.dropout(b.ops, b.output, b.input, b.batch, shape(b.spec.p, b.place, b.rows))],
  backward: (b) => (b.dInput ? [gpu.dropoutBackward(b.ops, b.dInput, b.dOutput, b.inputGradActivation, b.batch, shape(b.spec.p, b.place, b.rows))] : []),

  referenceForward(x, r) {
    if (!r.training || r.spec.p === 0) return Float64Array.from(x);
    const y = new Float64Array(x.length);
    reference.dropout(y, x, r.spec.p, (i) => reference.dropoutKeep(r.seed, r.step, r.place.index, i, r.spec.p));
    return y;
  },
  referenceBackward(dY, _x, _y, r) {
    if (r.spec.p === 0) return Float64Array.from(dY);
    const dX = new Float64Array(dY.length);
    reference.dropoutBackward(dX, dY, r.spec.p, (i) => reference.dropoutKeep(r.seed, r.step, r.place.index, i, r.spec.p));
    return dX;
  },

  // The identity outside training: no node.
  onnx: (_s, _place, g) => g.input,
  torch: (s) => ({ module: 'Dropout', args: { p: s.p } }),
  doc: { written: 'dropout:P', torch: 'nn.Dropout(P)', notes: 'in training zeroes each value with probability P and scales the rest by 1/(1 − P); the identity otherwise' },
  examples: [{ layer: 'dropout:0.3', input: [7] }],
  refuses: ['dropout', 'dropout:1', 'dropout:-0.1', 'dropout:0x0', 'dropout:0.2:0.3'],
};
