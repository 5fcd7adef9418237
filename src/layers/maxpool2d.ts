// maxpool2d:K[:stride=S] — PyTorch's nn.MaxPool2d(K, stride=S) (S defaults to K, no padding) on channels-last
// images; ties go to the first largest element in row-major window order (shaders/maxPool2d.ts). This module
// holds its GPU ops and their float64 twins; the written form, shapes and dispatch are pooling.ts's.
import {
  MAX_POOL_BINDINGS, maxPool2dBackwardShader, maxPool2dShader, maxPoolBackwardBindings, poolBlocks, poolOutputSize, type PoolGeometry,
} from '../../shaders/maxPool2d.js';
import { dispatch, type BufferSlice, type Dispatch, type Kernel } from '../gpu/dispatch.js';
import { activationBuffers, ELEMENTWISE_WORKGROUP, fusedLabel, type FusedActivation, type Ops } from '../gpu/ops.js';
import type { ElementwiseOp } from '../../shaders/elementwise.js';
import { pooling, poolForwardKernel, poolLabel, type PoolSpec } from './pooling.js';

/** 2-D max pooling, written 'maxpool2d:K[:stride=S]': PyTorch's nn.MaxPool2d(K, stride=S), without padding. */
export type MaxPool2dSpec = PoolSpec<'maxpool2d'>;

/** The kernels, as values (see src/gpu/dispatch.ts Kernel). */
export const kernels = {
  maxPool2d: (g: PoolGeometry): Kernel => poolForwardKernel('maxPool2d', maxPool2dShader(ELEMENTWISE_WORKGROUP, g), MAX_POOL_BINDINGS, g),
  /** `activation`: the fusion pass's activation before it, whose backward it applies (reading its x and/or y). */
  maxPool2dBackward(g: PoolGeometry, activation?: ElementwiseOp): Kernel {
    const count = g.batch * g.height * g.width * g.channels;
    return {
      label: `${poolLabel('maxPool2dBackward', g)}${poolBlocks(g) !== null ? ' blocks' : ''}${fusedLabel(activation)}`,
      code: maxPool2dBackwardShader(ELEMENTWISE_WORKGROUP, g, activation), entryPoint: 'maxPool2dBackward', bindings: maxPoolBackwardBindings(activation),
      invocations: poolBlocks(g) ?? count, workgroupSize: ELEMENTWISE_WORKGROUP, cost: { flops: count * 4, bytes: 12 * count },
    };
  },
};

export const gpu = {
  maxPool2d(ops: Ops, output: BufferSlice, input: BufferSlice, g: PoolGeometry): Dispatch {
    return dispatch(ops.cache, kernels.maxPool2d(g), { input, output });
  },
  maxPool2dBackward(ops: Ops, dInput: BufferSlice, dOutput: BufferSlice, input: BufferSlice, activation: FusedActivation | undefined, g: PoolGeometry): Dispatch {
    return dispatch(ops.cache, kernels.maxPool2dBackward(g, activation?.op), { dOutput, input, dInput, ...activationBuffers(activation) });
  },
};

/** The float64 twins: the window's first largest element, and dY routed to it. */
export const reference = {
  /** For each output element, the index into x of its window's argmax. */
  maxPool2dArgmax(x: ArrayLike<number>, g: PoolGeometry): Uint32Array {
    const { outHeight: OH, outWidth: OW } = poolOutputSize(g);
    const { batch, channels: C, height: H, width: W, kernelHeight: KH, kernelWidth: KW, stride: S } = g;
    const at = new Uint32Array(batch * OH * OW * C);
    for (let b = 0; b < batch; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++) {
      let best = -Infinity;
      let where = ((b * H + oh * S) * W + ow * S) * C + c;
      for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) {
        const k = ((b * H + oh * S + i) * W + ow * S + j) * C + c;
        if (x[k] > best) { best = x[k]; where = k; }
      }
      at[((b * OH + oh) * OW + ow) * C + c] = where;
    }
    return at;
  },
  maxPool2d(x: Float64Array, g: PoolGeometry): Float64Array {
    return Float64Array.from(reference.maxPool2dArgmax(x, g), (k) => x[k]);
  },
  maxPool2dBackward(dY: Float64Array, x: Float64Array, g: PoolGeometry): Float64Array {
    const dX = new Float64Array(x.length);
    reference.maxPool2dArgmax(x, g).forEach((k, o) => { dX[k] += dY[o]; });
    return dX;
  },
};

export const maxpool2d = pooling({
  name: 'maxpool2d',
  maxKernel: 15,
  forward: gpu.maxPool2d,
  backward: gpu.maxPool2dBackward,
  referenceForward: reference.maxPool2d,
  referenceBackward: reference.maxPool2dBackward,
  onnx: 'MaxPool',
  torch: 'MaxPool2d',
  notes: 'ties go to the first largest element in row-major window order',
});
