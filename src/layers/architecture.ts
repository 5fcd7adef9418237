// A model's list of layers, checked and placed: each layer's input and output shapes, its index (PyTorch's
// nn.Sequential index, so a dropout shifts the indices after it as it does there) and its parameter
// tensors, named `${index}.weight` etc. Everything that walks a model walks this.
import { BadInputError } from '../errors.js';
import { MAX_LAYERS, moduleOf, formatLayers, type LayerSpec } from './index.js';
import type { LayerModule, LayerPlace, ParameterDecl, StateDecl } from './layer.js';
import { checkedInputShape, elementsOf, formatShape, isImage, type InputShape, type Shape } from './shape.js';

/** A parameter tensor of a placed layer, with its state-dict name. */
export interface PlacedParameter extends ParameterDecl {
  /** `${index}.${role}`: the PyTorch state-dict name and the engine's. */
  name: string;
}

/** A kept-state tensor of a placed layer (batch norm's running estimates), with its state-dict name. */
export interface PlacedState extends StateDecl {
  /** `${index}.${role}`. */
  name: string;
  /** State is stored in PyTorch's layout as it is. */
  transposedInTorch: false;
}

/** One layer of a model, placed: its spec, its kind's module, its shapes and index, and its named tensors. */
export interface PlacedLayer extends LayerPlace {
  /** The layer as data, as given ({ kind: 'linear', outputs: 500 }). */
  spec: LayerSpec;
  /** Its kind's module (LAYER_MODULES[spec.kind]). */
  module: LayerModule<LayerSpec>;
  /** Its trained tensors, named `${index}.weight` etc. */
  parameters: PlacedParameter[];
  /** Its kept, untrained tensors (batch norm's running estimates); empty for most kinds. */
  state: PlacedState[];
  /** Training updates its parameters: false when its spec says `trainable: false` (frozen). */
  trainable: boolean;
}

/** A model's list of layers, checked and placed (see architecture()): what everything that walks a model reads. */
export interface Architecture {
  /** The shape of one input row: [features] or [channels, height, width]. */
  inputShape: Shape;
  /** Values per input row (784 for MNIST, as pixels or as a 1×28×28 image). */
  inputs: number;
  /** The layers in order, each placed. */
  layers: PlacedLayer[];
  /** Classes the model tells apart: the last (linear) layer's outputs, at least 2. */
  classes: number;
  /** The written form, 'linear:500,relu,linear:10'. */
  text: string;
  /** How the model is named everywhere: '784 → linear:500,relu,linear:10', '1×28×28 → conv2d:…'. */
  name: string;
}

/** MNIST's digits as an image, the input of a model whose first layer reads images (when none is given). */
export const MNIST_IMAGE: Shape = [1, 28, 28];

/** The input shape a model takes when the caller gives none: MNIST, as an image if the first layer needs one. */
export function defaultInputShape(specs: readonly LayerSpec[]): Shape {
  const first = specs[0];
  return first && first.kind === 'conv2d' ? MNIST_IMAGE : [784];
}

/**
 * Checks and places a list of layers on an input shape: each layer must take the one before's output, the first
 * must read the model's input (linear, conv2d), the last must be linear with at least 2 outputs. Throws
 * BadInputError saying which layer does not fit.
 */
/** `minOutputs`: 2 classes for a softmax; 1 output for a regression or multi-label loss. */
export function architecture(specs: readonly LayerSpec[], input: InputShape, minOutputs = 2): Architecture {
  if (!Array.isArray(specs)) {
    throw new BadInputError(`layers must be a list of layer specs (parseLayers('linear:500,relu,linear:10') makes one), got ${specs === null ? 'null' : typeof specs}`, { value: specs });
  }
  const inputShape = checkedInputShape(input);
  if (specs.length === 0) throw new BadInputError('a model needs at least one layer');
  if (specs.length > MAX_LAYERS) throw new BadInputError(`a model has at most ${MAX_LAYERS} layers, got ${specs.length}`, { value: specs.length });
  let shape = inputShape;
  const layers = specs.map((spec, index): PlacedLayer => {
    const module = moduleOf(spec);
    const written = module.format(spec as never);
    const where = `layer ${index} (${written})`;
    // A spec built in code is checked as its written form would be.
    module.parse(written.split(':').slice(1));
    if (index === 0 && !module.readsModelInput) throw new BadInputError(`${where}: the first layer reads the u8 pixels or f32 features, which only linear and conv2d can`);
    let outputShape: Shape;
    try {
      outputShape = module.outputShape(spec as never, shape);
    } catch (e) {
      throw new BadInputError(`${where} cannot take its input ${formatShape(shape)}: ${(e as Error).message}`);
    }
    const parameters = module.parameters(spec as never, shape).map((p) => ({ ...p, name: `${index}.${p.role}` }));
    const state = (module.state?.(spec as never, shape) ?? []).map((s) => ({ ...s, name: `${index}.${s.role}`, transposedInTorch: false as const }));
    const trainable = spec.trainable ?? true;
    if (typeof trainable !== 'boolean') throw new BadInputError(`${where}: trainable must be true or false, got ${JSON.stringify(trainable) ?? typeof trainable}`, { value: trainable });
    if (!trainable && parameters.length === 0) throw new BadInputError(`${where}: trainable: false is for layers with parameters; ${spec.kind} has none`, { value: index });
    const placed: PlacedLayer = {
      spec, module: module as LayerModule<LayerSpec>, index, inputShape: shape, outputShape,
      inputs: elementsOf(shape), outputs: elementsOf(outputShape), parameters, state, trainable,
    };
    shape = outputShape;
    return placed;
  });
  const last = specs[specs.length - 1];
  if (last.kind !== 'linear') throw new BadInputError(`the last layer must be linear (its outputs are the class scores), got ${moduleOf(last).format(last as never)}`);
  const classes = elementsOf(shape);
  if (classes < minOutputs) throw new BadInputError(minOutputs === 2 ? `the last layer needs at least 2 classes, got ${classes}` : `the last layer needs at least ${minOutputs} output, got ${classes}`);
  const inputs = elementsOf(inputShape);
  const text = formatLayers(specs);
  return { inputShape, inputs, layers, classes, text, name: `${formatShape(inputShape)} → ${text}` };
}

/** All parameter tensors in order, as the flat layout holds them. */
export const parametersOf = (a: Architecture): PlacedParameter[] => a.layers.flatMap((l) => l.parameters);

/** Whether training updates anything: some layer has parameters and is not frozen. */
export const hasTrainableParameters = (a: Architecture): boolean => a.layers.some((l) => l.trainable && l.parameters.length > 0);

/**
 * The layers with `trainable: false` at `indices` (the CLI's --freeze 0,3): each index must name a layer with
 * parameters. Returns new specs; the others are kept as they are.
 */
export function freezeLayers(specs: readonly LayerSpec[], indices: readonly number[]): LayerSpec[] {
  for (const i of indices) {
    if (!(Number.isInteger(i) && i >= 0 && i < specs.length)) throw new BadInputError(`layer ${i} to freeze is not a layer index of this model (0..${specs.length - 1})`, { value: i });
  }
  return specs.map((spec, i) => (indices.includes(i) ? { ...spec, trainable: false } : spec));
}

/** All kept (untrained) tensors in order, as the state buffer holds them. */
export const statesOf = (a: Architecture): PlacedState[] => a.layers.flatMap((l) => l.state);

/** Whether the model reads its input as an image (its first layer is spatial). */
export const readsImage = (a: Architecture): boolean => isImage(a.inputShape);
