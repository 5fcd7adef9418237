// batchnorm — PyTorch's nn.BatchNorm1d(F) after a feature vector, nn.BatchNorm2d(C) after an image, with its
// defaults: momentum 0.1, ε 1e-5, weight 1, bias 0, running mean 0 and variance 1. In training it normalizes
// by the batch's own statistics (biased variance) and updates the running estimates (unbiased variance); in
// evaluation and prediction it uses the running estimates. State-dict names: weight, bias, running_mean,
// running_var, num_batches_tracked (the model's optimizer step, written by checkpoints). Kernels:
// shaders/batchnorm.ts; an activation after it runs fused as its epilogue. This module holds the GPU ops and their
// float64 twins.
import { BadInputError } from '../errors.js';
import {
  BATCHNORM_BACKWARD_BINDINGS, BATCHNORM_STATS_BINDINGS, BATCHNORM_WORKGROUP, batchnormBackwardShader, batchnormForwardBindings,
  batchnormForwardShader, batchnormStatsShader, type BatchnormShape,
} from '../../shaders/batchnorm.js';
import { dispatch, type BufferSlice, type Dispatch, type Kernel } from '../gpu/dispatch.js';
import { ELEMENTWISE_WORKGROUP, type Ops } from '../gpu/ops.js';
import type { ElementwiseOp } from '../../shaders/elementwise.js';
import { constant } from './init.js';
import type { LayerModule, LayerPlace } from './layer.js';
import { isImage } from './shape.js';

/** Batch normalization, written 'batchnorm': nn.BatchNorm1d after features, nn.BatchNorm2d after an image. */
export interface BatchnormSpec {
  /** The layer kind. */
  kind: 'batchnorm';
}

export const BATCHNORM_MOMENTUM = 0.1;
export const BATCHNORM_EPS = 1e-5;

const shapeOf = (place: LayerPlace, rows: number): BatchnormShape => {
  const [channels, height = 1, width = 1] = place.inputShape;
  return { capacityRows: rows, channels, positions: height * width, momentum: BATCHNORM_MOMENTUM, eps: BATCHNORM_EPS };
};
const label = (entry: string, s: BatchnormShape) => `${entry} ${s.capacityRows}×${s.positions}×${s.channels}`;

/** The kernels, as values (see src/gpu/dispatch.ts Kernel). */
export const kernels = {
  batchnormStats(s: BatchnormShape): Kernel {
    const count = s.capacityRows * s.positions * s.channels;
    return {
      label: label('batchnormStats', s), code: batchnormStatsShader(s), entryPoint: 'batchnormStats', bindings: BATCHNORM_STATS_BINDINGS,
      invocations: s.channels * BATCHNORM_WORKGROUP, workgroupSize: BATCHNORM_WORKGROUP, cost: { flops: 4 * count, bytes: 8 * count },
    };
  },
  /** `training`: from the batch's stats, else from the running estimates; `activation`: the activation after it, fused. */
  batchnormForward(s: BatchnormShape, training: boolean, activation?: ElementwiseOp): Kernel {
    const count = s.capacityRows * s.positions * s.channels;
    return {
      label: `${label('batchnormForward', s)}${training ? '' : ' running'}${activation ? ` +${activation.name}` : ''}`, code: batchnormForwardShader(ELEMENTWISE_WORKGROUP, s, training, activation),
      entryPoint: 'batchnormForward', bindings: batchnormForwardBindings(training), invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP,
      cost: { flops: 4 * count, bytes: 8 * count },
    };
  },
  batchnormBackward(s: BatchnormShape): Kernel {
    const count = s.capacityRows * s.positions * s.channels;
    return {
      label: label('batchnormBackward', s), code: batchnormBackwardShader(s), entryPoint: 'batchnormBackward', bindings: BATCHNORM_BACKWARD_BINDINGS,
      invocations: s.channels * BATCHNORM_WORKGROUP, workgroupSize: BATCHNORM_WORKGROUP, cost: { flops: 10 * count, bytes: 16 * count },
    };
  },
};

export const gpu = {
  batchnormStats(ops: Ops, stats: BufferSlice, runningMean: BufferSlice, runningVar: BufferSlice, input: BufferSlice, batch: BufferSlice, s: BatchnormShape): Dispatch {
    return dispatch(ops.cache, kernels.batchnormStats(s), { input, stats, runningMean, runningVar, batch });
  },
  /** From stats (training) or from the running estimates (evaluation: `running` given). */
  batchnormForward(
    ops: Ops, output: BufferSlice, input: BufferSlice, weight: BufferSlice, bias: BufferSlice,
    from: { stats: BufferSlice } | { runningMean: BufferSlice; runningVar: BufferSlice }, activation: ElementwiseOp | undefined, s: BatchnormShape,
  ): Dispatch {
    return dispatch(ops.cache, kernels.batchnormForward(s, 'stats' in from, activation), { input, weight, bias, ...from, output });
  },
  batchnormBackward(
    ops: Ops, dInput: BufferSlice, dWeight: BufferSlice, dBias: BufferSlice, dOutput: BufferSlice, input: BufferSlice, weight: BufferSlice, stats: BufferSlice,
    batch: BufferSlice, s: BatchnormShape,
  ): Dispatch {
    return dispatch(ops.cache, kernels.batchnormBackward(s), { dOutput, input, weight, stats, dInput, dWeight, dBias, batch });
  },
};

/** The float64 twins over the first `rows` rows, channels last ([rows × positions × channels]). */
export const reference = {
  /** Per channel: mean and biased variance over rows × positions. */
  batchnormStats(x: ArrayLike<number>, rows: number, s: BatchnormShape): { mean: Float64Array; variance: Float64Array } {
    const { channels: C, positions: P } = s;
    const M = rows * P;
    const mean = new Float64Array(C);
    const variance = new Float64Array(C);
    for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) mean[c] += x[m * C + c] / M;
    for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) variance[c] += (x[m * C + c] - mean[c]) ** 2 / M;
    return { mean, variance };
  },
  batchnormForward(y: Float64Array, x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, C: number): void {
    for (let k = 0; k < y.length; k++) {
      const c = k % C;
      y[k] = ((x[k] - mean[c]) / Math.sqrt(variance[c] + BATCHNORM_EPS)) * weight[c] + bias[c];
    }
  },
  batchnormBackward(dX: Float64Array, dWeight: Float64Array, dBias: Float64Array, dY: ArrayLike<number>, x: ArrayLike<number>, weight: ArrayLike<number>, rows: number, s: BatchnormShape): void {
    const { channels: C, positions: P } = s;
    const M = rows * P;
    const { mean, variance } = reference.batchnormStats(x, rows, s);
    const invStd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + BATCHNORM_EPS));
    for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) {
      dBias[c] += dY[m * C + c];
      dWeight[c] += dY[m * C + c] * (x[m * C + c] - mean[c]) * invStd[c];
    }
    for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) {
      const xhat = (x[m * C + c] - mean[c]) * invStd[c];
      dX[m * C + c] = ((weight[c] * invStd[c]) / M) * (M * dY[m * C + c] - dBias[c] - xhat * dWeight[c]);
    }
  },
};

export const batchnorm: LayerModule<BatchnormSpec> = {
  kind: 'batchnorm',
  parse(args) {
    if (args.length) throw new BadInputError(`batchnorm takes no argument (PyTorch's defaults: momentum 0.1, eps 1e-5), got 'batchnorm:${args.join(':')}'`);
    return { kind: 'batchnorm' };
  },
  format: () => 'batchnorm',
  outputShape: (_s, input) => input,
  parameters: (_s, input) => [
    { role: 'weight', shape: [input[0]], transposedInTorch: false, init: constant(1) },
    { role: 'bias', shape: [input[0]], transposedInTorch: false, init: constant(0) },
  ],
  state: (_s, input) => [
    { role: 'running_mean', shape: [input[0]], init: constant(0) },
    { role: 'running_var', shape: [input[0]], init: constant(1) },
  ],
  fuses: { epilogue: true },

  forward(b) {
    const s = shapeOf(b.place, b.rows);
    const [weight, bias] = [b.param('weight'), b.param('bias')];
    const running = { runningMean: b.state('running_mean'), runningVar: b.state('running_var') };
    if (!b.training) return [gpu.batchnormForward(b.ops, b.output, b.input, weight, bias, running, b.epilogue, s)];
    const stats = b.scratch('stats', 2 * s.channels);
    return [
      gpu.batchnormStats(b.ops, stats, running.runningMean, running.runningVar, b.input, b.batch, s),
      gpu.batchnormForward(b.ops, b.output, b.input, weight, bias, { stats }, b.epilogue, s),
    ];
  },
  backward(b) {
    const s = shapeOf(b.place, b.rows);
    const stats = b.scratch('stats', 2 * s.channels);
    // Its input gradient feeds its weight and bias gradients too, so it is made even for a first layer's
    // output; only the model's input has none (and batchnorm cannot be first).
    // Frozen, its one kernel still makes the weight and bias gradients beside the input's: they land in a
    // scratch buffer of its own, so the model's gradients (and the optimizer) never see them.
    const [dWeight, dBias] = b.frozen ? ['frozen dWeight', 'frozen dBias'].map((name) => b.scratch(name, s.channels)) : [b.grad('weight'), b.grad('bias')];
    return [gpu.batchnormBackward(b.ops, b.dInput!, dWeight, dBias, b.dOutput, b.input, b.param('weight'), stats, b.batch, s)];
  },

  referenceForward(x, r) {
    const s = shapeOf(r.place, r.rows);
    const y = new Float64Array(x.length);
    const { mean, variance } = r.training ? reference.batchnormStats(x, r.rows, s) : { mean: r.state('running_mean'), variance: r.state('running_var') };
    reference.batchnormForward(y, x, r.param('weight'), r.param('bias'), mean, variance, s.channels);
    return y;
  },
  referenceBackward(dY, x, _y, r) {
    const dX = new Float64Array(x.length);
    reference.batchnormBackward(dX, r.grad('weight'), r.grad('bias'), dY, x, r.param('weight'), r.rows, shapeOf(r.place, r.rows));
    return dX;
  },

  onnx: (_s, _place, g) => g.node('BatchNormalization', [g.input, g.tensor('weight'), g.tensor('bias'), g.tensor('running_mean'), g.tensor('running_var')], { epsilon: { float: BATCHNORM_EPS } }),
  torch: (_s, place) => ({ module: isImage(place.inputShape) ? 'BatchNorm2d' : 'BatchNorm1d', args: { num_features: place.inputShape[0] } }),
  doc: {
    written: 'batchnorm',
    torch: 'nn.BatchNorm2d(C) / nn.BatchNorm1d(F)',
    notes: 'BatchNorm2d after an image, BatchNorm1d after features; momentum 0.1, ε 1e-5; batch statistics of the batch\'s real rows in training, running estimates in evaluate/predict',
  },
  examples: [{ layer: 'batchnorm', input: [5] }, { layer: 'batchnorm', input: [3, 4, 3] }],
  refuses: ['batchnorm:0.1', 'batchnorm:momentum=0.1'],
};

