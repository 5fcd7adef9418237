// A model's parameters in one flat GPU buffer, laid out from its list of layers (src/layers/architecture.ts):
// each layer's tensors in order, named as PyTorch's nn.Sequential names them ('0.weight', '0.bias', '2.weight', …).
// A linear layer's weight is [in × out] here, the transpose of PyTorch's nn.Linear.weight.
import { BadInputError } from '../errors.js';
import { architecture, defaultInputShape, parametersOf, statesOf, type Architecture } from '../layers/architecture.js';
import type { InputShape } from '../layers/shape.js';
import { mlpLayerSpecs, type LayerSpec } from '../layers/index.js';
import { MAX_WIDTH } from '../layers/linear.js';
import { makeParamLayout, slotOf, type ParamLayout } from './paramLayout.js';
import { Random } from '../gpu/random.js';
import { readFloats, storageBuffer } from '../gpu/buffers.js';
import type { InputKind } from '../data/dataset.js';
import { lossOf, type LossKind } from '../data/loss.js';

/** What a model is built from: its layers, input shape and kind, seed and pixel normalization. */
export interface NetworkConfig {
  /**
   * The layers in order, a linear layer last (parseLayers('linear:500,relu,linear:10') writes them). Default
   * DEFAULT_LAYERS, the 784-500-10 MLP.
   */
  layers?: LayerSpec[];
  /**
   * The input width, or the image shape [channels, height, width]. Default MNIST's: 784 pixels, or a 1×28×28
   * image when the first layer reads images (conv2d).
   */
  inputs?: InputShape;
  /** Seeds initialization, the shuffling in fit and dropout's masks. Default 0. */
  seed?: number;
  /**
   * What a row of input holds: 'u8' pixels (a Uint8Array, the default) or 'f32' features (a Float32Array, read
   * as they are). Data sets given to fit, evaluate and predict must hold this kind.
   */
  input?: InputKind;
  /**
   * The loss it trains with: 'cross-entropy' (softmax over classes against class labels, the default), 'mse'
   * (regression against float targets) or 'bce' (multi-label: a sigmoid per output against targets in [0, 1]).
   * It decides what predict gives (probabilities, values, per-label probabilities) and what ONNX export ends in.
   */
  loss?: LossKind;
  /** u8 pixels are read as x/255; with mean and std (on that scale) they are standardized too. Not for 'f32'. */
  pixelMean?: number;
  /** The pixels' standard deviation on the x/255 scale, divided out after pixelMean (MNIST's: 0.3081). Default 1. */
  pixelStd?: number;
}

/** The layers of the default model: MNIST's 784 pixels to a hidden linear layer of 500, a ReLU, and 10 classes. */
export const DEFAULT_LAYERS: readonly LayerSpec[] = mlpLayerSpecs([784, 500, 10]);

export function validateSizes(sizes: number[], minOutputs = 2): void {
  if (sizes.length < 2) throw new BadInputError(`an MLP needs at least 2 sizes (inputs, classes), got [${sizes.join(', ')}]`);
  for (const s of sizes) {
    if (!Number.isInteger(s) || s < 1 || s > MAX_WIDTH) throw new BadInputError(`layer size must be an integer in 1..${MAX_WIDTH}, got ${s}`);
  }
  if (sizes[sizes.length - 1] < minOutputs) throw new BadInputError(`the last layer needs at least ${minOutputs === 2 ? '2 classes' : `${minOutputs} output`}, got ${sizes[sizes.length - 1]}`);
}

/** The architecture a config describes: its layers (default DEFAULT_LAYERS) on its inputs. */
export function architectureOf(config: Pick<NetworkConfig, 'layers' | 'inputs' | 'loss'>): Architecture {
  // Untyped callers of an older version: a widths list is refused, not quietly replaced by the default model.
  if ((config as { sizes?: unknown }).sizes !== undefined) {
    throw new BadInputError("sizes is not an option: give the layers, e.g. { layers: parseLayers('linear:500,relu,linear:10'), inputs: 784 }", { value: (config as { sizes?: unknown }).sizes });
  }
  // A softmax needs two classes; a regression or multi-label loss may have one output.
  const minOutputs = lossOf(config.loss) === 'cross-entropy' ? 2 : 1;
  const layers = config.layers ?? [...DEFAULT_LAYERS];
  return architecture(layers, config.inputs ?? defaultInputShape(layers), minOutputs);
}

/** The plain MLP of these widths (inputs first, classes last), checked: for the references, the CLI and older files. */
export function mlpArchitecture(sizes: number[], loss?: LossKind): Architecture {
  const minOutputs = lossOf(loss) === 'cross-entropy' ? 2 : 1;
  validateSizes(sizes, minOutputs);
  return architecture(mlpLayerSpecs(sizes), sizes[0], minOutputs);
}

/** Widths through the linear layers, inputs first ([784, 500, 10]): what checkpoints and run reports record as "sizes". */
export function linearWidths(a: Architecture): number[] {
  return [a.inputs, ...a.layers.filter((l) => l.spec.kind === 'linear').map((l) => l.outputs)];
}

export function paramLayoutOf(a: Architecture, alignmentBytes: number): ParamLayout {
  return makeParamLayout(parametersOf(a), alignmentBytes);
}

/** Each tensor's initialization (PyTorch's defaults), drawn in layout order. */
export function initialParams(layout: ParamLayout, a: Architecture, random: Random): Float32Array {
  const flat = new Float32Array(layout.totalLength);
  for (const p of parametersOf(a)) {
    const slot = slotOf(layout, p.name);
    p.init(flat.subarray(slot.offset, slot.offset + slot.length), random);
  }
  return flat;
}

/** The kept tensors' initial values (batch norm: running mean 0, running variance 1), in layout order. */
export function initialState(layout: ParamLayout, a: Architecture): Float32Array {
  const flat = new Float32Array(layout.totalLength);
  for (const s of statesOf(a)) {
    const slot = slotOf(layout, s.name);
    s.init(flat.subarray(slot.offset, slot.offset + slot.length));
  }
  return flat;
}

/** The GPU side of a model: its parameter buffer, the flat buffers shaped like it, and its kept state. */
export class MlpParameters {
  readonly layout: ParamLayout;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  /** Tensors kept but not trained (batch norm's running estimates), in their own layout. */
  readonly stateLayout: ParamLayout;
  readonly state: GPUBuffer;

  constructor(readonly device: GPUDevice, readonly architecture: Architecture) {
    this.layout = paramLayoutOf(architecture, device.limits.minStorageBufferOffsetAlignment);
    const bytes = this.layout.totalLength * 4;
    this.stateLayout = makeParamLayout(statesOf(architecture), device.limits.minStorageBufferOffsetAlignment);
    // A buffer refused by the device (its limits) must not leave the others allocated.
    const made: GPUBuffer[] = [];
    try {
      made.push((this.params = storageBuffer(device, bytes, 'params')));
      made.push((this.grads = storageBuffer(device, bytes, 'grads')));
      made.push((this.state = storageBuffer(device, this.stateLayout.totalLength * 4, 'state')));
    } catch (e) {
      for (const b of made) b.destroy();
      throw e;
    }
    this.uploadState(initialState(this.stateLayout, architecture));
  }

  uploadState(flat: Float32Array): void {
    if (flat.length !== this.stateLayout.totalLength) throw new BadInputError(`expected ${this.stateLayout.totalLength} state floats, got ${flat.length}`);
    this.device.queue.writeBuffer(this.state, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  /** A zeroed buffer with the parameters' layout (optimizer state). */
  makeStateBuffer(label: string): GPUBuffer {
    return storageBuffer(this.device, this.layout.totalLength * 4, label);
  }

  upload(flat: Float32Array): void {
    if (flat.length !== this.layout.totalLength) throw new BadInputError(`expected ${this.layout.totalLength} floats, got ${flat.length}`);
    this.device.queue.writeBuffer(this.params, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  async downloadState(): Promise<Float32Array> {
    return readFloats(this.device, this.state, 0, this.stateLayout.totalLength);
  }

  async download(buffer: GPUBuffer = this.params): Promise<Float32Array> {
    return readFloats(this.device, buffer, 0, this.layout.totalLength);
  }

  destroy(): void {
    this.params.destroy();
    this.grads.destroy();
    this.state.destroy();
  }
}
