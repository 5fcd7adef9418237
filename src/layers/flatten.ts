// flatten — PyTorch's nn.Flatten(): a channels-last C×H×W image row into C·H·W features in (c, h, w) order,
// so the linear layer after it has PyTorch's weights (shaders/flatten.ts). This module holds its GPU ops and
// their float64 twins.
import { BadInputError } from '../errors.js';
import { FLATTEN_BINDINGS, flattenBackwardBindings, flattenBackwardShader, flattenShader } from '../../shaders/flatten.js';
import type { ImageGeometry } from '../../shaders/image.js';
import { dispatch, type BufferSlice, type Dispatch, type Kernel } from '../gpu/dispatch.js';
import { activationBuffers, ELEMENTWISE_WORKGROUP, fusedLabel, type FusedActivation, type Ops } from '../gpu/ops.js';
import { activationGradBindings, type ElementwiseOp } from '../../shaders/elementwise.js';
import type { LayerModule } from './layer.js';
import { elementsOf, isImage, type Shape } from './shape.js';

/** An image to C·H·W features in PyTorch's (c, h, w) order, written 'flatten': nn.Flatten(). */
export interface FlattenSpec {
  /** The layer kind. */
  kind: 'flatten';
}

const geometryOf = (input: Shape, batch: number): ImageGeometry => ({ batch, channels: input[0], height: input[1], width: input[2] });
const label = (entry: string, g: ImageGeometry) => `${entry} ${g.batch}×${g.height}×${g.width}×${g.channels}`;

/** The kernels, as values (see src/gpu/dispatch.ts Kernel). */
export const kernels = {
  flatten(g: ImageGeometry): Kernel {
    const count = g.batch * g.channels * g.height * g.width;
    return {
      label: label('flatten', g), code: flattenShader(ELEMENTWISE_WORKGROUP, g), entryPoint: 'flatten', bindings: FLATTEN_BINDINGS,
      invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP, cost: { flops: 0, bytes: 8 * count },
    };
  },
  /** `activation`: the fusion pass's activation before it, whose backward it applies (reading its x and/or y). */
  flattenBackward(g: ImageGeometry, activation?: ElementwiseOp): Kernel {
    const count = g.batch * g.channels * g.height * g.width;
    return {
      label: `${label('flattenBackward', g)}${fusedLabel(activation)}`, code: flattenBackwardShader(ELEMENTWISE_WORKGROUP, g, activation), entryPoint: 'flattenBackward',
      bindings: flattenBackwardBindings(activation), invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP, cost: { flops: 0, bytes: (8 + 4 * activationGradBindings(activation).length) * count },
    };
  },
};

export const gpu = {
  flatten(ops: Ops, output: BufferSlice, input: BufferSlice, g: ImageGeometry): Dispatch {
    return dispatch(ops.cache, kernels.flatten(g), { input, output });
  },
  flattenBackward(ops: Ops, dInput: BufferSlice, dOutput: BufferSlice, activation: FusedActivation | undefined, g: ImageGeometry): Dispatch {
    return dispatch(ops.cache, kernels.flattenBackward(g, activation?.op), { dOutput, dInput, ...activationBuffers(activation) });
  },
};

export const reference = {
  /** out[b][(c·H + h)·W + w] = x[b][(h·W + w)·C + c] */
  flatten(out: Float64Array, x: ArrayLike<number>, g: ImageGeometry): void {
    const { batch, channels: C, height: H, width: W } = g;
    for (let b = 0; b < batch; b++) for (let c = 0; c < C; c++) for (let hw = 0; hw < H * W; hw++) out[(b * C + c) * H * W + hw] = x[(b * H * W + hw) * C + c];
  },
  flattenBackward(dX: Float64Array, dY: ArrayLike<number>, g: ImageGeometry): void {
    const { batch, channels: C, height: H, width: W } = g;
    for (let b = 0; b < batch; b++) for (let c = 0; c < C; c++) for (let hw = 0; hw < H * W; hw++) dX[(b * H * W + hw) * C + c] = dY[(b * C + c) * H * W + hw];
  },
};

export const flatten: LayerModule<FlattenSpec> = {
  kind: 'flatten',
  parse(args) {
    if (args.length) throw new BadInputError(`flatten takes no argument, got 'flatten:${args.join(':')}'`);
    return { kind: 'flatten' };
  },
  format: () => 'flatten',
  outputShape(_s, input) {
    if (!isImage(input)) throw new BadInputError(`flatten takes a channels × height × width image; its input is already ${input[0]} features`);
    return [elementsOf(input)];
  },
  parameters: () => [],
  fuses: { inputGrad: true },

  forward: (b) => [gpu.flatten(b.ops, b.output, b.input, geometryOf(b.place.inputShape, b.rows))],
  backward: (b) => (b.dInput ? [gpu.flattenBackward(b.ops, b.dInput, b.dOutput, b.inputGradActivation, geometryOf(b.place.inputShape, b.rows))] : []),

  referenceForward(x, r) {
    const y = new Float64Array(x.length);
    reference.flatten(y, x, geometryOf(r.place.inputShape, r.rows));
    return y;
  },
  referenceBackward(dY, _x, _y, r) {
    const dX = new Float64Array(dY.length);
    reference.flattenBackward(dX, dY, geometryOf(r.place.inputShape, r.rows));
    return dX;
  },

  onnx: (_s, _place, g) => g.node('Flatten', [g.input], { axis: 1 }),
  torch: () => ({ module: 'Flatten', args: {} }),
  doc: { written: 'flatten', torch: 'nn.Flatten()', notes: "an image into C·H·W features in PyTorch's (c, h, w) order" },
  examples: [{ layer: 'flatten', input: [3, 4, 2] }],
  refuses: ['flatten:1'],
};
