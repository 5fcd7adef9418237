// What the pooling kinds (maxpool2d, avgpool2d) share: the written form 'KIND:K[:stride=S]' (S defaults to K,
// no padding), the output shape, the window geometry, the dispatches with the fusion pass's activation backward in the
// backward, their ONNX node and PyTorch module. A pooling kind is a module that calls this with its two GPU
// ops and their float64 twins (shaders/pooling.ts holds the kernels' shared constants).
import { BadInputError } from '../errors.js';
import { poolOutputSize, type PoolGeometry } from '../../shaders/pooling.js';
import type { Binding } from '../../shaders/bindings.js';
import type { BufferSlice, Dispatch, Kernel } from '../gpu/dispatch.js';
import { ELEMENTWISE_WORKGROUP, type FusedActivation, type Ops } from '../gpu/ops.js';
import { integerOptions, leadingInteger, type LayerDoc, type LayerExample, type LayerModule } from './layer.js';
import { formatShape, isImage, type Shape } from './shape.js';

/** A pooling layer: its window's side and its stride. */
export interface PoolSpec<K extends string> {
  /** The layer kind. */
  kind: K;
  /** The square window's side K. */
  kernel: number;
  /** The step between windows (K when written without it). */
  stride: number;
}

/** A pooling kind: its name, its largest window, its GPU ops and their float64 twins, its ONNX and PyTorch names. */
export interface PoolingDefinition<K extends string> {
  name: K;
  /** Largest window side it takes. */
  maxKernel: number;
  /** output = pool(input) over the batch. */
  forward(ops: Ops, output: BufferSlice, input: BufferSlice, g: PoolGeometry): Dispatch;
  /** dInput from dOutput (and the forward's input), then the backward of the activation before it when one is fused. */
  backward(ops: Ops, dInput: BufferSlice, dOutput: BufferSlice, input: BufferSlice, activation: FusedActivation | undefined, g: PoolGeometry): Dispatch;
  referenceForward(x: Float64Array, g: PoolGeometry): Float64Array;
  referenceBackward(dY: Float64Array, x: Float64Array, g: PoolGeometry): Float64Array;
  /** Its ONNX operator ('MaxPool') and torch.nn class ('MaxPool2d'). */
  onnx: string;
  torch: string;
  /** What the layer table says of it beyond the shared form. */
  notes: string;
  examples?: LayerExample[];
}

/** A pooling kernel's dispatch label: its entry point and geometry ('maxPool2d 128×24×24×8 k2 s2'). */
export const poolLabel = (entry: string, g: PoolGeometry) => `${entry} ${g.batch}×${g.height}×${g.width}×${g.channels} k${g.kernelHeight} s${g.stride}`;

/** A pooling forward's kernel: one invocation per output element, each reading its K·K window of `input`. */
export function poolForwardKernel(entry: string, code: string, bindings: Binding[], g: PoolGeometry): Kernel {
  const { outHeight, outWidth } = poolOutputSize(g);
  const count = g.batch * outHeight * outWidth * g.channels;
  const window = g.kernelHeight * g.kernelWidth;
  return {
    label: poolLabel(entry, g), code, entryPoint: entry, bindings, invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP,
    cost: { flops: count * window, bytes: 4 * count * (window + 1) },
  };
}

export function poolGeometry(s: PoolSpec<string>, input: Shape, batch: number): PoolGeometry {
  const [channels, height, width] = input;
  return { batch, channels, height, width, kernelHeight: s.kernel, kernelWidth: s.kernel, stride: s.stride };
}

/** The layer module of a pooling kind. */
export function pooling<K extends string>(def: PoolingDefinition<K>): LayerModule<PoolSpec<K>> {
  const { name, maxKernel } = def;
  const doc: LayerDoc = {
    written: `${name}:K[:stride=S]`,
    torch: `nn.${def.torch}(K, stride=S)`,
    notes: `S defaults to K; no padding; K ≤ ${maxKernel}; ${def.notes}`,
  };
  return {
    kind: name,
    parse(args) {
      const [kernelText, ...options] = args;
      const kernel = leadingInteger(kernelText, 1, maxKernel);
      if (kernel === undefined) {
        throw new BadInputError(`${name} takes its window size, an integer in 1..${maxKernel} (${name}:2), got '${args.join(':')}'`);
      }
      const o = integerOptions(name, options, { stride: kernel });
      if (!(o.stride >= 1 && o.stride <= maxKernel)) throw new BadInputError(`${name} stride must be 1..${maxKernel}, got ${o.stride}`);
      return { kind: name, kernel, stride: o.stride };
    },
    format: (s) => `${name}:${s.kernel}${s.stride !== s.kernel ? `:stride=${s.stride}` : ''}`,
    outputShape(s, input) {
      if (!isImage(input)) throw new BadInputError(`${name} takes a channels × height × width image, not ${input[0]} features`);
      if (s.kernel > input[1] || s.kernel > input[2]) throw new BadInputError(`a ${s.kernel}×${s.kernel} window does not fit a ${formatShape(input)} image`);
      const { outHeight, outWidth } = poolOutputSize(poolGeometry(s, input, 1));
      return [input[0], outHeight, outWidth];
    },
    parameters: () => [],
    fuses: { inputGrad: true },

    forward: (b) => [def.forward(b.ops, b.output, b.input, poolGeometry(b.spec, b.place.inputShape, b.rows))],
    backward: (b) => (b.dInput ? [def.backward(b.ops, b.dInput, b.dOutput, b.input, b.inputGradActivation, poolGeometry(b.spec, b.place.inputShape, b.rows))] : []),

    referenceForward: (x, r) => def.referenceForward(x, poolGeometry(r.spec, r.place.inputShape, r.rows)),
    referenceBackward: (dY, x, _y, r) => def.referenceBackward(dY, x, poolGeometry(r.spec, r.place.inputShape, r.rows)),

    onnx: (s, _place, graph) => graph.node(def.onnx, [graph.input], { kernel_shape: [s.kernel, s.kernel], strides: [s.stride, s.stride] }),
    torch: (s) => ({ module: def.torch, args: { kernel_size: s.kernel, stride: s.stride } }),
    doc,
    // Windows that tile with a leftover row and column, and windows that overlap.
    examples: [{ layer: `${name}:2`, input: [2, 7, 5] }, ...(def.examples ?? [{ layer: `${name}:3:stride=2`, input: [2, 7, 7] }])],
    refuses: [`${name}`, `${name}:0`, `${name}:${maxKernel + 1}`, `${name}:2:stride=0`, `${name}:2:pad=1`, `${name}:2:stride=1:stride=2`],
  };
}
