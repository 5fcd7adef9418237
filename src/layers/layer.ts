// What a layer kind declares, in one module per kind (linear.ts, conv2d.ts, activations.ts, …): how it is
// written ('linear:500', 'conv2d:16:k=3:pad=1'), its output shape for an input shape, its parameter tensors
// (engine shape, PyTorch layout, initialization), a plain forward and backward on the GPU, and its float64 twin.
// No layer knows what comes before or after it: the plan's fusion pass (src/engine/fusion.ts) may hand a layer
// an activation to run as its forward epilogue, or one whose backward to apply to the input gradient it makes,
// where the module says in `fuses` that its kernels take them. The plan, the reference model, checkpoints, autotune and the demo walk
// a model's list of layers (architecture.ts) and ask these. Each module also says what it is elsewhere: its ONNX
// nodes (src/export/onnx.ts walks the list), its PyTorch module as data (test/torch_interop.py builds it), its
// line in the layer table (docs/guides/layers.md), and the cases the conformance test runs it in.
import { BadInputError } from '../errors.js';
import type { InputKind } from '../data/dataset.js';
import type { BufferSlice, Dispatch } from '../gpu/dispatch.js';
import type { FusedActivation, Ops } from '../gpu/ops.js';
import type { ElementwiseOp } from '../../shaders/elementwise.js';
import type { Random } from '../gpu/random.js';
import type { MatmulForm, MatmulShape } from '../../shaders/matmul.js';
import type { Shape } from './shape.js';

/** A parameter tensor a layer declares: its name's role, engine shape, PyTorch layout and initialization. */
export interface ParameterDecl {
  /** The tensor is named `${layer index}.${role}`, as in a PyTorch nn.Sequential state dict. */
  role: 'weight' | 'bias';
  /** Engine layout, row-major. */
  shape: number[];
  /** PyTorch stores the transpose of this 2-D tensor (nn.Linear.weight is [out × in]). */
  transposedInTorch: boolean;
  /** PyTorch's shape of the (transposed) data when it is not the 2-D one: nn.Conv2d.weight [out, in, kh, kw]. */
  torchShape?: number[];
  /** Fills the tensor with its initial values, drawing from `random` in order. */
  init(out: Float32Array, random: Random): void;
}

/** A tensor a layer keeps that training does not optimize (batch norm's running estimates). */
export interface StateDecl {
  /** Named `${layer index}.${role}`, as in a PyTorch state dict. */
  role: 'running_mean' | 'running_var';
  /** Engine layout, row-major (batch norm's estimates: [features] or [channels]). */
  shape: number[];
  /** Fills the tensor with its initial values (running mean 0, running variance 1). */
  init(out: Float32Array): void;
}

/** Where a layer sits in a model: its index and the shapes of its input and output rows. */
export interface LayerPlace {
  /** Position in the model's list (PyTorch's nn.Sequential index). */
  index: number;
  /** The shape of one row of its input: [features] or [channels, height, width]. */
  inputShape: Shape;
  /** The shape of one row of its output. */
  outputShape: Shape;
  /** Values per row in and out (the shapes' products). */
  inputs: number;
  /** Values per row out: the product of outputShape. */
  outputs: number;
}

/** Everything a layer's dispatches bind, for a plan of `rows` rows. */
export interface LayerBuffers<S> {
  /** The layer's spec. */
  spec: S;
  /** Its place in the model. */
  place: LayerPlace;
  /** The device's kernels, by op name. */
  ops: Ops;
  /** The plan's batch capacity. */
  rows: number;
  /** [rows × inputs] f32, or u8 pixels packed four to a u32 (then `pixels` says how to scale them). */
  input: BufferSlice;
  /** u8 input only: x/255 is standardized as x · pixelScale + pixelShift in the first load. */
  pixels?: {
    /** The factor on the raw byte. */
    pixelScale: number;
    /** The term added after it. */
    pixelShift: number;
  };
  /** [rows × outputs] f32. */
  output: BufferSlice;
  /** Where the loss gradient of the input goes; null when nothing needs it (the input is the model's). */
  dInput: BufferSlice | null;
  /** The loss gradient of the output, [rows × outputs] f32. */
  dOutput: BufferSlice;
  /** Fusion pass only: the activation after this layer, run as its forward epilogue (output holds the activation's output). */
  epilogue?: ElementwiseOp;
  /**
   * Fusion pass only: the input came out of this activation, whose backward the input-gradient kernel applies
   * (dInput = its backward with dy = the gradient computed), reading its x and y from the buffers given.
   */
  inputGradActivation?: FusedActivation;
  /** A parameter tensor of this layer, in the model's flat parameter buffer. */
  param(role: ParameterDecl['role']): BufferSlice;
  /** The gradient of that tensor, in the flat gradient buffer. */
  grad(role: ParameterDecl['role']): BufferSlice;
  /** Its parameters are frozen (spec `trainable: false`): backward makes the input gradient only, no parameter gradients. */
  frozen?: boolean;
  /** The layer's kept state (StateDecl), in the model's state buffer. */
  state(role: StateDecl['role']): BufferSlice;
  /** Whether this plan trains (batch statistics) or evaluates (running estimates). */
  training: boolean;
  /** A buffer of this layer's own for the plan (im2col columns), made once with it. */
  scratch(name: string, floats: number): BufferSlice;
  /** The Batch uniform (rows, step, seed, …; shaders/batchUniform.ts). */
  batch: BufferSlice;
}

/** The float64 twin's view of a layer in a step. */
export interface LayerReferenceStep<S> {
  /** The layer's spec. */
  spec: S;
  /** Its place in the model. */
  place: LayerPlace;
  /** Rows in this batch. */
  rows: number;
  /** A parameter tensor's values, in float64. */
  param(role: ParameterDecl['role']): Float64Array;
  /** The gradient tensor to fill (zeros on entry). */
  grad(role: ParameterDecl['role']): Float64Array;
  /** The kept state as the step starts (batch norm's running estimates). */
  state(role: StateDecl['role']): Float64Array;
  /** The model's seed (dropout masks hash it). */
  seed: number;
  /** The optimizer step this batch trains. */
  step: number;
  /** Whether this is a training step (dropout and batch statistics on). */
  training: boolean;
}

/** An ONNX attribute: an integer, a list of integers, or a float (a number written `{ float: 1 }` stays a float). */
export type OnnxAttribute = number | number[] | {
  /** A FLOAT attribute, even when the number is whole. */
  float: number;
};

/** What a layer writes its ONNX nodes into (src/export/onnx.ts). Images are NCHW there, as in PyTorch. */
export interface OnnxLayerGraph {
  /** The name of the layer's input tensor. */
  input: string;
  /** Adds a node of operator `op` and returns the name of its output. */
  node(op: string, inputs: string[], attributes?: Record<string, OnnxAttribute>): string;
  /** Adds the layer's tensor `${index}.${role}` (PyTorch's layout, as a checkpoint holds it) and returns its name. */
  tensor(role: ParameterDecl['role'] | StateDecl['role']): string;
}

/** A PyTorch module as data: `torch.nn.${module}(**args)`, as test/torch_interop.py builds it. */
export interface TorchModule {
  /** The class in torch.nn ('Linear', 'LeakyReLU'). */
  module: string;
  /** Its constructor's keyword arguments ({ in_features: 784, out_features: 500 }). */
  args: Record<string, number>;
}

/** The kind's line in the layer table (docs/guides/layers.md, generated from the registry). */
export interface LayerDoc {
  /** The written form with its arguments as names: 'maxpool2d:K[:stride=S]'. */
  written: string;
  /** Its PyTorch module with those names: 'nn.MaxPool2d(K, stride=S)'. */
  torch: string;
  /** What a user should know (defaults, limits, layouts). */
  notes: string;
}

/** A case the conformance test runs a kind in: the layer as written, and the shape of one row of its input. */
export interface LayerExample {
  /** The layer as written: 'avgpool2d:3:stride=1'. */
  layer: string;
  /** The shape of one row of its input: [features] or [channels, height, width]. */
  input: Shape;
}

/**
 * A layer kind: how its spec `S` is written and parsed, its output shape and tensors for an input shape, its
 * GPU forward and backward, and its float64 twin. One module per kind, registered in LAYER_MODULES.
 */
export interface LayerModule<S extends {
  /** The layer kind's name, as written ('linear', 'relu', …). */
  kind: string;
}> {
  /** The kind's name, as written first in its written form ('linear' of 'linear:500'). */
  kind: S['kind'];
  /** The ':'-separated arguments after 'kind' in the written form → the spec. */
  parse(args: string[]): S;
  /** The spec → its written form ('linear:500', 'conv2d:16:k=3:pad=1'); parse takes it back. */
  format(spec: S): string;
  /** The output shape for an input shape; throws saying why the input does not fit. */
  outputShape(spec: S, input: Shape): Shape;
  /** Its trained tensors for an input shape, in layout order (none for activations, pooling, flatten). */
  parameters(spec: S, input: Shape): ParameterDecl[];
  /** Tensors it keeps that are not trained (default none). */
  state?(spec: S, input: Shape): StateDecl[];
  /** Can read the model's inputs (u8 pixels or f32 features) as the first layer. */
  readsModelInput?: boolean;
  /** What its kernels take from the fusion pass (LayerBuffers.epilogue, LayerBuffers.inputGradActivation). */
  fuses?: {
    /** Its forward can run the activation after it as an epilogue. */
    epilogue?: boolean;
    /** Its input-gradient kernel can apply the backward of the activation before it. */
    inputGrad?: boolean;
  };
  /** An elementwise activation: its op (shaders/elementwise.ts), which the fusion pass may run inside its neighbours. */
  elementwise?(spec: S): ElementwiseOp;
  /** No dispatch and output = input in this mode (dropout outside training). */
  isIdentity?(spec: S, training: boolean): boolean;
  /** The dispatches that compute `output` from `input` for the plan's rows. */
  forward(b: LayerBuffers<S>): Dispatch[];
  /** The dispatches that compute the parameter gradients and, when `dInput` is set, the input gradient from `dOutput`. */
  backward(b: LayerBuffers<S>): Dispatch[];
  /** Floats per row of its largest scratch buffer (bounds the inference batch); 0 when left out. */
  scratchPerRow?(spec: S, place: LayerPlace): number;
  /**
   * The matrix products a training step of `rows` rows runs for this layer (autotune tunes these); `modelInput`
   * is the model's input kind when this layer reads it (the first layer), else null.
   */
  products?(spec: S, place: LayerPlace, rows: number, modelInput: InputKind | null): [MatmulForm, MatmulShape][];
  /** y = layer(x), x [rows × inputs]. */
  referenceForward(x: Float64Array, r: LayerReferenceStep<S>): Float64Array;
  /** dX from dY (and parameter gradients into r.grad), given the forward's x and y. */
  referenceBackward(dY: Float64Array, x: Float64Array, y: Float64Array, r: LayerReferenceStep<S>): Float64Array;

  /** Writes its inference form into an ONNX graph; returns the name of its output (its input when it is the identity). */
  onnx(spec: S, place: LayerPlace, graph: OnnxLayerGraph): string;
  /** Its PyTorch module, whose state dict holds its tensors under the same roles. */
  torch(spec: S, place: LayerPlace): TorchModule;
  /** Its line in the layer table. */
  doc: LayerDoc;
  /** The cases every check of the conformance test runs it in (test/conformance.test.ts). */
  examples: LayerExample[];
  /** Written forms its parse must refuse, with a message that names the kind. */
  refuses: string[];
}

/** A leading argument that must be a whole number in min..max ('16' of conv2d:16), or undefined when it is not. */
export function leadingInteger(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

/** 'k=5' style options after a layer's leading arguments, each a non-negative integer; unknown names and repeats refused. */
export function integerOptions(kind: string, args: string[], names: Record<string, number>): Record<string, number> {
  const values = { ...names };
  const given = new Set<string>();
  for (const arg of args) {
    const [name, text, ...rest] = arg.split('=');
    // Own keys only: 'constructor=5' is not an option because every object has a constructor.
    if (!Object.hasOwn(names, name) || text === undefined || rest.length) {
      throw new BadInputError(`${kind} option '${arg}' is not one of ${Object.keys(names).map((n) => `${n}=N`).join(', ')}`);
    }
    if (given.has(name)) throw new BadInputError(`${kind} option ${name} is given twice`);
    given.add(name);
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw new BadInputError(`${kind} option ${name} must be a non-negative integer, got '${text}'`);
    values[name] = value;
  }
  return values;
}
