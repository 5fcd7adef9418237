// avgpool2d:K[:stride=S] — PyTorch's nn.AvgPool2d(K, stride=S) (S defaults to K, no padding, each window's
// mean over its K·K elements) on channels-last images (shaders/avgPool2d.ts). Global average pooling of an
// H×H map is avgpool2d:H. This module holds its GPU ops and their float64 twins; the written form, shapes
// and dispatch are pooling.ts's.
import { AVG_POOL_BINDINGS, avgPool2dBackwardShader, avgPool2dShader, avgPoolBackwardBindings } from '../../shaders/avgPool2d.js';
import { poolOutputSize, type PoolGeometry } from '../../shaders/pooling.js';
import { dispatch, type BufferSlice, type Dispatch, type Kernel } from '../gpu/dispatch.js';
import { activationBuffers, ELEMENTWISE_WORKGROUP, fusedLabel, type FusedActivation, type Ops } from '../gpu/ops.js';
import { activationGradBindings, type ElementwiseOp } from '../../shaders/elementwise.js';
import { pooling, poolForwardKernel, poolLabel, type PoolSpec } from './pooling.js';

/** 2-D average pooling, written 'avgpool2d:K[:stride=S]': PyTorch's nn.AvgPool2d(K, stride=S), without padding. */
export type AvgPool2dSpec = PoolSpec<'avgpool2d'>;

/** The kernels, as values (see src/gpu/dispatch.ts Kernel). */
export const kernels = {
  avgPool2d: (g: PoolGeometry): Kernel => poolForwardKernel('avgPool2d', avgPool2dShader(ELEMENTWISE_WORKGROUP, g), AVG_POOL_BINDINGS, g),
  /** `activation`: the fusion pass's activation before it, whose backward it applies (reading its x and/or y). */
  avgPool2dBackward(g: PoolGeometry, activation?: ElementwiseOp): Kernel {
    const count = g.batch * g.height * g.width * g.channels;
    return {
      label: `${poolLabel('avgPool2dBackward', g)}${fusedLabel(activation)}`, code: avgPool2dBackwardShader(ELEMENTWISE_WORKGROUP, g, activation),
      entryPoint: 'avgPool2dBackward', bindings: avgPoolBackwardBindings(activation), invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP,
      cost: { flops: count * 2, bytes: (8 + 4 * activationGradBindings(activation).length) * count },
    };
  },
};

export const gpu = {
  avgPool2d(ops: Ops, output: BufferSlice, input: BufferSlice, g: PoolGeometry): Dispatch {
    return dispatch(ops.cache, kernels.avgPool2d(g), { input, output });
  },
  /** The forward's input is not read: every element of a window gets the same share. */
  avgPool2dBackward(ops: Ops, dInput: BufferSlice, dOutput: BufferSlice, _input: BufferSlice, activation: FusedActivation | undefined, g: PoolGeometry): Dispatch {
    return dispatch(ops.cache, kernels.avgPool2dBackward(g, activation?.op), { dOutput, dInput, ...activationBuffers(activation) });
  },
};

/** The float64 twins: each window's mean, and dY shared equally over its window. */
export const reference = {
  avgPool2d(x: Float64Array, g: PoolGeometry): Float64Array {
    const { outHeight: OH, outWidth: OW } = poolOutputSize(g);
    const { batch, channels: C, height: H, width: W, kernelHeight: KH, kernelWidth: KW, stride: S } = g;
    const y = new Float64Array(batch * OH * OW * C);
    for (let b = 0; b < batch; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) sum += x[((b * H + oh * S + i) * W + ow * S + j) * C + c];
      y[((b * OH + oh) * OW + ow) * C + c] = sum / (KH * KW);
    }
    return y;
  },
  avgPool2dBackward(dY: Float64Array, x: Float64Array, g: PoolGeometry): Float64Array {
    const { outHeight: OH, outWidth: OW } = poolOutputSize(g);
    const { batch, channels: C, height: H, width: W, kernelHeight: KH, kernelWidth: KW, stride: S } = g;
    const dX = new Float64Array(x.length);
    for (let b = 0; b < batch; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++) {
      const share = dY[((b * OH + oh) * OW + ow) * C + c] / (KH * KW);
      for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) dX[((b * H + oh * S + i) * W + ow * S + j) * C + c] += share;
    }
    return dX;
  },
};

export const avgpool2d = pooling({
  name: 'avgpool2d',
  // Large enough for global pooling of a 28×28 image.
  maxKernel: 32,
  forward: gpu.avgPool2d,
  backward: gpu.avgPool2dBackward,
  referenceForward: reference.avgPool2d,
  referenceBackward: reference.avgPool2dBackward,
  onnx: 'AveragePool',
  torch: 'AvgPool2d',
  notes: "each window's mean over its K·K elements; avgpool2d:H on an H×H map is global average pooling",
  // Global pooling, and overlapping windows.
  examples: [{ layer: 'avgpool2d:5', input: [3, 5, 5] }, { layer: 'avgpool2d:3:stride=1', input: [2, 5, 6] }],
});
