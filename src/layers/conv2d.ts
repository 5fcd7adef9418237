// conv2d:OUT:k=K[:stride=S][:pad=P] — PyTorch's nn.Conv2d(in, OUT, K, stride=S, padding=P) on channels-last
// images (shape.ts). Its weight is [C·K·K × OUT] here, the transpose of PyTorch's [OUT, C, K, K] flattened,
// so that the convolution is matmul products over im2col columns (shaders/conv2d.ts):
//   forward   columns = conv2dColumns(x); y[B·OH·OW × OUT] = matmulNN(columns, weight) + bias (+ activation, fused)
//   backward  dWeight = matmulTN(columns, dY); dBias = biasGrad(dY);
//             dColumns = matmulNT(dY, weight); dX = conv2dInputGrad(dColumns) (+ the activation's backward, fused)
// This module holds the layer's two column ops and their float64 twins (direct loops, no columns).
import { BadInputError } from '../errors.js';
import {
  CONV2D_COLUMNS_BINDINGS, columnWidth, columnsInvocations, conv2dColumnsShader, conv2dInputGradBindings, conv2dInputGradShader, convOutputSize, type ConvGeometry,
} from '../../shaders/conv2d.js';
import type { MatmulForm, MatmulShape } from '../../shaders/matmul.js';
import { dispatch, type BufferSlice, type Dispatch, type Kernel } from '../gpu/dispatch.js';
import { activationBuffers, biasEpilogue, ELEMENTWISE_WORKGROUP, fusedLabel, type FusedActivation, type Ops } from '../gpu/ops.js';
import type { ElementwiseOp } from '../../shaders/elementwise.js';
import { uniformFanIn } from './init.js';
import { integerOptions, leadingInteger, type LayerModule, type LayerPlace, type ParameterDecl } from './layer.js';
import { formatShape, isImage, type Shape } from './shape.js';

/** A 2-D convolution, written 'conv2d:OUT:k=K[:stride=S][:pad=P]': PyTorch's nn.Conv2d(in, OUT, K, stride=S, padding=P). */
export interface Conv2dSpec {
  /** The layer kind. */
  kind: 'conv2d';
  /** Output channels (OUT). */
  outChannels: number;
  /** The square kernel's side K, at most 15. */
  kernel: number;
  /** The step between windows, in pixels (1 when written without it). */
  stride: number;
  /** Zeros added on each side, at most K − 1 (0 when written without it). */
  padding: number;
}

const MAX_CHANNELS = 4096;
const MAX_KERNEL = 15;

type Pixels = { pixelScale: number; pixelShift: number };

/** The kernels of the two column ops, as values (see src/gpu/dispatch.ts Kernel). */
export const kernels = {
  conv2dColumns(g: ConvGeometry, pixels?: Pixels): Kernel {
    const { outHeight, outWidth } = convOutputSize(g);
    const count = g.batch * outHeight * outWidth * columnWidth(g);
    const label = `conv2dColumns ${g.batch}×${g.height}×${g.width}×${g.channels} k${g.kernelHeight} s${g.stride} p${g.padding}${pixels ? ' u8' : ''}`;
    return {
      label, code: conv2dColumnsShader(ELEMENTWISE_WORKGROUP, g, pixels), entryPoint: 'conv2dColumns', bindings: CONV2D_COLUMNS_BINDINGS,
      invocations: columnsInvocations(g), workgroupSize: ELEMENTWISE_WORKGROUP, cost: { flops: 0, bytes: 8 * count },
    };
  },
  /** `activation`: the fusion pass's activation before it, whose backward it applies (reading its x and/or y). */
  conv2dInputGrad(g: ConvGeometry, activation?: ElementwiseOp): Kernel {
    const count = g.batch * g.height * g.width * g.channels;
    const label = `conv2dInputGrad ${g.batch}×${g.height}×${g.width}×${g.channels} k${g.kernelHeight} s${g.stride} p${g.padding}${fusedLabel(activation)}`;
    const cost = { flops: count * g.kernelHeight * g.kernelWidth, bytes: 4 * (count * g.kernelHeight * g.kernelWidth + count) };
    return {
      label, code: conv2dInputGradShader(ELEMENTWISE_WORKGROUP, g, activation), entryPoint: 'conv2dInputGrad', bindings: conv2dInputGradBindings(activation),
      invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP, cost,
    };
  },
};

/** The GPU ops around the products: columns = conv2dColumns(input), dInput = conv2dInputGrad(dColumns). */
export const gpu = {
  conv2dColumns(ops: Ops, columns: BufferSlice, input: BufferSlice, g: ConvGeometry, pixels?: Pixels): Dispatch {
    return dispatch(ops.cache, kernels.conv2dColumns(g, pixels), { input, columns });
  },
  conv2dInputGrad(ops: Ops, dInput: BufferSlice, dColumns: BufferSlice, activation: FusedActivation | undefined, g: ConvGeometry): Dispatch {
    return dispatch(ops.cache, kernels.conv2dInputGrad(g, activation?.op), { dColumns, dInput, ...activationBuffers(activation) });
  },
};

export function geometryOf(s: Conv2dSpec, input: Shape, batch: number): ConvGeometry {
  const [channels, height, width] = input;
  return { batch, channels, height, width, outChannels: s.outChannels, kernelHeight: s.kernel, kernelWidth: s.kernel, stride: s.stride, padding: s.padding };
}

/** The float64 twins on channels-last rows, weight [(c·K + i)·K + j][o]. */
export const reference = {
  conv2d(y: Float64Array, x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, g: ConvGeometry): void {
    const { outHeight: OH, outWidth: OW } = convOutputSize(g);
    const { batch, channels: C, height: H, width: W, outChannels: O, kernelHeight: KH, kernelWidth: KW, stride: S, padding: P } = g;
    for (let b = 0; b < batch; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const out = ((b * OH + oh) * OW + ow) * O;
      for (let o = 0; o < O; o++) y[out + o] = bias[o];
      for (let c = 0; c < C; c++) for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) {
        const h = oh * S - P + i, w = ow * S - P + j;
        if (h < 0 || h >= H || w < 0 || w >= W) continue;
        const v = x[((b * H + h) * W + w) * C + c];
        const k = (c * KH + i) * KW + j;
        for (let o = 0; o < O; o++) y[out + o] += v * weight[k * O + o];
      }
    }
  },
  /** dX, dWeight and dBias of conv2d from dY (dWeight, dBias accumulate into what they hold). */
  conv2dBackward(dX: Float64Array, dWeight: Float64Array, dBias: Float64Array, dY: ArrayLike<number>, x: ArrayLike<number>, weight: ArrayLike<number>, g: ConvGeometry): void {
    const { outHeight: OH, outWidth: OW } = convOutputSize(g);
    const { batch, channels: C, height: H, width: W, outChannels: O, kernelHeight: KH, kernelWidth: KW, stride: S, padding: P } = g;
    for (let b = 0; b < batch; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const out = ((b * OH + oh) * OW + ow) * O;
      for (let o = 0; o < O; o++) dBias[o] += dY[out + o];
      for (let c = 0; c < C; c++) for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) {
        const h = oh * S - P + i, w = ow * S - P + j;
        if (h < 0 || h >= H || w < 0 || w >= W) continue;
        const at = ((b * H + h) * W + w) * C + c;
        const k = (c * KH + i) * KW + j;
        for (let o = 0; o < O; o++) {
          dWeight[k * O + o] += x[at] * dY[out + o];
          dX[at] += weight[k * O + o] * dY[out + o];
        }
      }
    }
  },
};

const outputsOf = (s: Conv2dSpec, place: LayerPlace) => {
  const g = geometryOf(s, place.inputShape, 1);
  const { outHeight, outWidth } = convOutputSize(g);
  return { g, positions: outHeight * outWidth, K: columnWidth(g) };
};

export const conv2d: LayerModule<Conv2dSpec> = {
  kind: 'conv2d',
  parse(args) {
    const [channels, ...options] = args;
    const outChannels = leadingInteger(channels, 1, MAX_CHANNELS);
    if (outChannels === undefined) {
      throw new BadInputError(`conv2d takes its output channels, an integer in 1..${MAX_CHANNELS}, then k=KERNEL (conv2d:16:k=3:pad=1), got '${args.join(':')}'`);
    }
    const o = integerOptions('conv2d', options, { k: 0, stride: 1, pad: 0 });
    if (!(o.k >= 1 && o.k <= MAX_KERNEL)) throw new BadInputError(`conv2d needs its kernel size k=1..${MAX_KERNEL} (conv2d:${outChannels}:k=3), got ${options.length ? `'${args.join(':')}'` : 'none'}`);
    if (!(o.stride >= 1 && o.stride <= MAX_KERNEL)) throw new BadInputError(`conv2d stride must be 1..${MAX_KERNEL}, got ${o.stride}`);
    if (o.pad > o.k - 1) throw new BadInputError(`conv2d padding ${o.pad} is more than k − 1 = ${o.k - 1}`);
    return { kind: 'conv2d', outChannels, kernel: o.k, stride: o.stride, padding: o.pad };
  },
  format: (s) => `conv2d:${s.outChannels}:k=${s.kernel}${s.stride !== 1 ? `:stride=${s.stride}` : ''}${s.padding ? `:pad=${s.padding}` : ''}`,
  outputShape(s, input) {
    if (!isImage(input)) throw new BadInputError(`conv2d takes a channels × height × width image, not ${input[0]} features`);
    const { outHeight, outWidth } = convOutputSize(geometryOf(s, input, 1));
    if (outHeight < 1 || outWidth < 1) throw new BadInputError(`a ${s.kernel}×${s.kernel} kernel with padding ${s.padding} does not fit a ${formatShape(input)} image`);
    return [s.outChannels, outHeight, outWidth];
  },
  parameters(s, input): ParameterDecl[] {
    const fanIn = input[0] * s.kernel * s.kernel;
    return [
      { role: 'weight', shape: [fanIn, s.outChannels], transposedInTorch: true, torchShape: [s.outChannels, input[0], s.kernel, s.kernel], init: uniformFanIn(fanIn) },
      { role: 'bias', shape: [s.outChannels], transposedInTorch: false, init: uniformFanIn(fanIn) },
    ];
  },
  readsModelInput: true,
  fuses: { epilogue: true, inputGrad: true },
  scratchPerRow: (s, place) => {
    const { positions, K } = outputsOf(s, place);
    return positions * K;
  },

  forward(b) {
    const { positions, K } = outputsOf(b.spec, b.place);
    const M = b.rows * positions;
    const columns = b.scratch('columns', M * K);
    return [
      gpu.conv2dColumns(b.ops, columns, b.input, geometryOf(b.spec, b.place.inputShape, b.rows), b.pixels),
      b.ops.matmulNN(b.output, columns, b.param('weight'), M, b.spec.outChannels, K, biasEpilogue(b.param('bias'), b.epilogue)),
    ];
  },
  backward(b) {
    const { positions, K } = outputsOf(b.spec, b.place);
    const M = b.rows * positions;
    const O = b.spec.outChannels;
    const columns = b.scratch('columns', M * K);
    const dispatches = b.frozen ? [] : [
      b.ops.matmulTN(b.grad('weight'), columns, b.dOutput, K, O, M),
      b.ops.biasGrad(b.grad('bias'), b.dOutput, M, O),
    ];
    if (b.dInput) {
      const dColumns = b.scratch('dColumns', M * K);
      dispatches.push(
        b.ops.matmulNT(dColumns, b.dOutput, b.param('weight'), M, K, O),
        gpu.conv2dInputGrad(b.ops, b.dInput, dColumns, b.inputGradActivation, geometryOf(b.spec, b.place.inputShape, b.rows)),
      );
    }
    return dispatches;
  },

  products(s, place, rows, modelInput) {
    const { positions, K } = outputsOf(s, place);
    const M = rows * positions;
    return [
      ['nn', { M, N: s.outChannels, K }],
      ['tn', { M: K, N: s.outChannels, K: M }],
      ...(modelInput ? [] : [['nt', { M, N: K, K: s.outChannels }] as [MatmulForm, MatmulShape]]),
    ];
  },

  referenceForward(x, r) {
    const y = new Float64Array(r.rows * r.place.outputs);
    reference.conv2d(y, x, r.param('weight'), r.param('bias'), geometryOf(r.spec, r.place.inputShape, r.rows));
    return y;
  },
  referenceBackward(dY, x, _y, r) {
    const dX = new Float64Array(r.rows * r.place.inputs);
    reference.conv2dBackward(dX, r.grad('weight'), r.grad('bias'), dY, x, r.param('weight'), geometryOf(r.spec, r.place.inputShape, r.rows));
    return dX;
  },

  onnx: (s, _place, g) => g.node('Conv', [g.input, g.tensor('weight'), g.tensor('bias')], {
    kernel_shape: [s.kernel, s.kernel], strides: [s.stride, s.stride], pads: [s.padding, s.padding, s.padding, s.padding],
  }),
  torch: (s, place) => ({ module: 'Conv2d', args: { in_channels: place.inputShape[0], out_channels: s.outChannels, kernel_size: s.kernel, stride: s.stride, padding: s.padding } }),
  doc: { written: 'conv2d:OUT:k=K[:stride=S][:pad=P]', torch: 'nn.Conv2d(in, OUT, K, stride=S, padding=P)', notes: `square kernels, K ≤ ${MAX_KERNEL}, P ≤ K − 1; OUT ≤ ${MAX_CHANNELS}` },
  examples: [{ layer: 'conv2d:3:k=3:stride=2:pad=1', input: [2, 7, 6] }, { layer: 'conv2d:4:k=2', input: [3, 4, 5] }],
  refuses: ['conv2d:8', 'conv2d:0:k=3', 'conv2d:8:k=0', 'conv2d:8:k=3:pad=3', 'conv2d:8:k=3:stride=0', 'conv2d:8:k=3:size=2', 'conv2d:8:k=3:k=5', 'conv2d:8:k=3:pad=x'],
};
