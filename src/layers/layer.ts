// What a layer kind declares, in one module per kind (linear.ts, relu.ts, dropout.ts): how it is written
// ('linear:500'), its output width, its parameter tensors (engine shape, PyTorch layout, initialization),
// its GPU dispatches for forward and backward, and its float64 reference twin. The plan, the reference model,
// checkpoints, autotune and the demo walk a model's list of layers (architecture.ts) and ask these.
import type { InputKind } from '../data/dataset.js';
import type { BufferSlice, Dispatch } from '../engine/dispatch.js';
import type { Ops } from '../engine/ops.js';
import type { Random } from '../engine/random.js';
import type { MatmulForm, MatmulShape } from '../../shaders/matmul.js';

export interface ParameterDecl {
  /** The tensor is named `${layer index}.${role}`, as in a PyTorch nn.Sequential state dict. */
  role: 'weight' | 'bias';
  /** Engine layout, row-major. */
  shape: number[];
  /** PyTorch stores the transpose of this 2-D tensor (nn.Linear.weight is [out × in]). */
  transposedInTorch: boolean;
  /** Fills the tensor with its initial values, drawing from `random` in order. */
  init(out: Float32Array, random: Random): void;
}

export interface LayerPlace {
  /** Position in the model's list (PyTorch's nn.Sequential index). */
  index: number;
  inputs: number;
  outputs: number;
}

/** Everything a layer's dispatches bind, for a plan of `rows` rows. */
export interface LayerBuffers<S> {
  spec: S;
  place: LayerPlace;
  ops: Ops;
  rows: number;
  /** [rows × inputs] f32, or u8 pixels packed four to a u32 (then `pixels` says how to scale them). */
  input: BufferSlice;
  pixels?: { pixelScale: number; pixelShift: number };
  output: BufferSlice;
  /** Where the loss gradient of the input goes; null when nothing needs it (the input is pixels). */
  dInput: BufferSlice | null;
  dOutput: BufferSlice;
  /** A layer fused after this one, to run as this one's forward epilogue (a ReLU). */
  activation?: 'relu';
  /** The input is the output of a fused ReLU: the input gradient must be zero where this is ≤ 0. */
  inputMask?: BufferSlice;
  param(role: ParameterDecl['role']): BufferSlice;
  grad(role: ParameterDecl['role']): BufferSlice;
  /** The Batch uniform (rows, step, seed, …; shaders/batchUniform.ts). */
  batch: BufferSlice;
}

/** The float64 twin's view of a layer in a step. */
export interface LayerReferenceStep<S> {
  spec: S;
  place: LayerPlace;
  rows: number;
  param(role: ParameterDecl['role']): Float64Array;
  /** The gradient tensor to fill (zeros on entry). */
  grad(role: ParameterDecl['role']): Float64Array;
  seed: number;
  step: number;
  training: boolean;
}

export interface LayerModule<S extends { kind: string }> {
  kind: S['kind'];
  /** What follows 'kind:' in the written form (undefined when nothing does) → the spec. */
  parse(argument: string | undefined): S;
  format(spec: S): string;
  outputs(spec: S, inputs: number): number;
  parameters(spec: S, inputs: number): ParameterDecl[];
  /** Can read the model's inputs (u8 pixels or f32 features) as the first layer. */
  readsPixels?: boolean;
  /** Can run a ReLU that follows it as its epilogue. */
  takesActivation?: boolean;
  /**
   * This layer runs fused: its forward as the epilogue of the layer before, its backward as a mask on the
   * input gradient of the layer after (which every layer that makes an input gradient applies).
   */
  fusedAs?: 'relu';
  /** No dispatch and output = input in this mode (dropout outside training). */
  isIdentity?(spec: S, training: boolean): boolean;
  forward?(b: LayerBuffers<S>): Dispatch[];
  backward?(b: LayerBuffers<S>): Dispatch[];
  /**
   * The matrix products a training step of `rows` rows runs for this layer (autotune tunes these); `modelInput`
   * is the model's input kind when this layer reads it (the first layer), else null.
   */
  products?(place: LayerPlace, rows: number, modelInput: InputKind | null): [MatmulForm, MatmulShape][];
  /** y = layer(x), x [rows × inputs]. */
  referenceForward(x: Float64Array, r: LayerReferenceStep<S>): Float64Array;
  /** dX from dY (and parameter gradients into r.grad), given the forward's x and y. */
  referenceBackward(dY: Float64Array, x: Float64Array, y: Float64Array, r: LayerReferenceStep<S>): Float64Array;
}
