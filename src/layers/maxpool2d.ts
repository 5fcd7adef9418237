// maxpool2d:K[:stride=S] — PyTorch's nn.MaxPool2d(K, stride=S) (S defaults to K, no padding) on channels-last
// images; ties go to the first largest element in row-major window order (shaders/maxPool2d.ts). This module
// holds its GPU ops and their float64 twins.
import { BadInputError } from '../errors.js';
import {
  MAX_POOL_BINDINGS, maxPool2dBackwardShader, maxPool2dShader, maxPoolBackwardBindings, poolBlocks, poolOutputSize, type PoolGeometry,
} from '../../shaders/maxPool2d.js';
import { makeDispatch, type BufferSlice, type Dispatch } from '../gpu/dispatch.js';
import { ELEMENTWISE_WORKGROUP, type Ops } from '../gpu/ops.js';
import { integerOptions, leadingInteger, type LayerModule } from './layer.js';
import { formatShape, isImage, type Shape } from './shape.js';

/** 2-D max pooling, written 'maxpool2d:K[:stride=S]': PyTorch's nn.MaxPool2d(K, stride=S), without padding. */
export interface MaxPool2dSpec {
  /** The layer kind. */
  kind: 'maxpool2d';
  /** The square window's side K. */
  kernel: number;
  /** The step between windows (K when written without it). */
  stride: number;
}

const MAX_KERNEL = 15;

const label = (entry: string, g: PoolGeometry) => `${entry} ${g.batch}×${g.height}×${g.width}×${g.channels} k${g.kernelHeight} s${g.stride}`;

export const gpu = {
  maxPool2d(ops: Ops, output: BufferSlice, input: BufferSlice, g: PoolGeometry): Dispatch {
    const { outHeight, outWidth } = poolOutputSize(g);
    const count = g.batch * outHeight * outWidth * g.channels;
    const window = g.kernelHeight * g.kernelWidth;
    return makeDispatch(ops.cache, label('maxPool2d', g), maxPool2dShader(ELEMENTWISE_WORKGROUP, g), 'maxPool2d', MAX_POOL_BINDINGS, { input, output }, count, ELEMENTWISE_WORKGROUP, { flops: count * window, bytes: 4 * count * (window + 1) });
  },
  maxPool2dBackward(ops: Ops, dInput: BufferSlice, dOutput: BufferSlice, input: BufferSlice, mask: BufferSlice | null, g: PoolGeometry): Dispatch {
    const count = g.batch * g.height * g.width * g.channels;
    const buffers = { dOutput, input, dInput, ...(mask ? { mask } : {}) };
    const code = maxPool2dBackwardShader(ELEMENTWISE_WORKGROUP, g, mask !== null);
    const invocations = poolBlocks(g) ?? count;
    return makeDispatch(ops.cache, `${label('maxPool2dBackward', g)}${poolBlocks(g) !== null ? ' blocks' : ''}${mask ? ' +reluMask' : ''}`, code, 'maxPool2dBackward', maxPoolBackwardBindings(mask !== null), buffers, invocations, ELEMENTWISE_WORKGROUP, { flops: count * 4, bytes: 12 * count });
  },
};

export function geometryOf(s: MaxPool2dSpec, input: Shape, batch: number): PoolGeometry {
  const [channels, height, width] = input;
  return { batch, channels, height, width, kernelHeight: s.kernel, kernelWidth: s.kernel, stride: s.stride };
}

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
};

export const maxpool2d: LayerModule<MaxPool2dSpec> = {
  kind: 'maxpool2d',
  parse(args) {
    const [kernelText, ...options] = args;
    const kernel = leadingInteger(kernelText, 1, MAX_KERNEL);
    if (kernel === undefined) {
      throw new BadInputError(`maxpool2d takes its window size, an integer in 1..${MAX_KERNEL} (maxpool2d:2), got '${args.join(':')}'`);
    }
    const o = integerOptions('maxpool2d', options, { stride: kernel });
    if (!(o.stride >= 1 && o.stride <= MAX_KERNEL)) throw new BadInputError(`maxpool2d stride must be 1..${MAX_KERNEL}, got ${o.stride}`);
    return { kind: 'maxpool2d', kernel, stride: o.stride };
  },
  format: (s) => `maxpool2d:${s.kernel}${s.stride !== s.kernel ? `:stride=${s.stride}` : ''}`,
  outputShape(s, input) {
    if (!isImage(input)) throw new BadInputError(`maxpool2d takes a channels × height × width image, not ${input[0]} features`);
    if (s.kernel > input[1] || s.kernel > input[2]) throw new BadInputError(`a ${s.kernel}×${s.kernel} window does not fit a ${formatShape(input)} image`);
    const { outHeight, outWidth } = poolOutputSize(geometryOf(s, input, 1));
    return [input[0], outHeight, outWidth];
  },
  parameters: () => [],
  fuses: { inputGradMask: true },

  forward: (b) => [gpu.maxPool2d(b.ops, b.output, b.input, geometryOf(b.spec, b.place.inputShape, b.rows))],
  backward: (b) => (b.dInput ? [gpu.maxPool2dBackward(b.ops, b.dInput, b.dOutput, b.input, b.inputGradMask ?? null, geometryOf(b.spec, b.place.inputShape, b.rows))] : []),

  referenceForward(x, r) {
    const at = reference.maxPool2dArgmax(x, geometryOf(r.spec, r.place.inputShape, r.rows));
    return Float64Array.from(at, (k) => x[k]);
  },
  referenceBackward(dY, x, _y, r) {
    const at = reference.maxPool2dArgmax(x, geometryOf(r.spec, r.place.inputShape, r.rows));
    const dX = new Float64Array(x.length);
    at.forEach((k, o) => { dX[k] += dY[o]; });
    return dX;
  },
};
