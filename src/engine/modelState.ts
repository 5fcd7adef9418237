// A model's whole state as plain data, and its checks. What builds the model (inputs, layers, seed, pixel
// normalization), its weights under PyTorch's names and shapes ("0.weight" [out, in]), and, in a full state,
// what resuming needs (optimizer moments, step, RNG). Checkpoints are a codec over it (checkpoint.ts);
// Model.exportState / importState produce and take it.
import { BadInputError } from '../errors.js';
import type { Tensor } from '../data/safetensors.js';
import type { InputKind } from '../data/dataset.js';
import { parametersOf, statesOf, type Architecture, type PlacedParameter } from '../layers/architecture.js';
import type { ParameterDecl } from '../layers/layer.js';
import { formatLayers, type LayerSpec } from '../layers/index.js';
import { checkedInputShape, formatShape, type InputShape } from '../layers/shape.js';
import { resolveOptimizer, type OptimizerConfig, type OptimizerKind } from './optimizer.js';
import { makeParamLayout, slotOf, type ParamLayout } from './paramLayout.js';
import { architectureOf } from './mlp.js';
import { inputEncodingOf } from './plan.js';
import type { TrainingRecipe } from './recipe.js';
import { validateSchedule } from './schedule.js';
import { lossOf, type LossKind } from '../data/loss.js';

/** A model's whole state as plain data (see Model.exportState / importState); checkpoints encode it. */
export interface ModelState {
  /** The input width, or the image shape [channels, height, width]. */
  inputs: InputShape;
  /** The model's layers, in order (as ModelOptions.layers). */
  layers: LayerSpec[];
  /** The model's seed: initialization, shuffling and dropout's masks (ModelOptions.seed). */
  seed: number;
  /** What the first layer reads: u8 pixels (normalized by pixelMean/pixelStd) or f32 features. */
  input: InputKind;
  /** u8 inputs: the pixel mean on the x/255 scale (ModelOptions.pixelMean); absent for f32. */
  pixelMean?: number;
  /** u8 inputs: the pixel standard deviation on the x/255 scale (ModelOptions.pixelStd); absent for f32. */
  pixelStd?: number;
  /** The loss it trains with (ModelOptions.loss); absent (older files, PyTorch state dicts) means 'cross-entropy'. */
  loss?: LossKind;
  /** The weights, by PyTorch name, in PyTorch's shapes: "0.weight" [out, in], "0.bias" [out], … */
  tensors: Map<string, Tensor>;
  /** Whole epochs trained. */
  epochs: number;
  /** Optimizer updates applied (PyTorch's optimizer `step`). */
  step: number;
  /** The last fit's recipe (its optimizer fully resolved). */
  recipe?: TrainingRecipe;
  /** Present in a full state: what continuing the run bit for bit needs. */
  training?: TrainingState;
}

/** What a full state adds to the weights so that a resumed run continues bit for bit. */
export interface TrainingState {
  /** The shuffling RNG's four u32s. */
  rng: Uint32Array;
  /** Optimizer state by PyTorch name: "optimizer.exp_avg.0.weight", … (none before the first step). */
  optimizer: Map<string, Tensor>;
  /** The kernels of the step that trained it (bitwise resume holds under the same ones). */
  kernels?: {
    /** A 16-hex-digit digest of the code of every kernel in the training step. */
    digest: string;
    /** The step's matmul kernels by label, in dispatch order. */
    matmuls: string[];
  };
}

/** PyTorch's names for each optimizer's per-parameter state, in the engine's state-buffer order. */
export const OPTIMIZER_STATE_NAMES: Record<OptimizerKind, string[]> = { adam: ['exp_avg', 'exp_avg_sq'], adamw: ['exp_avg', 'exp_avg_sq'], sgd: ['momentum_buffer'] };

/** PyTorch's shape of a parameter: the engine's, its transpose, or (conv weights) that transpose reshaped. */
export const torchShape = (p: Pick<ParameterDecl, 'shape' | 'transposedInTorch' | 'torchShape'>) => p.torchShape ?? (p.transposedInTorch ? [...p.shape].reverse() : p.shape);

/** The tensors a flat layout holds and how PyTorch lays them out: a model's parameters, or its kept state. */
export type TorchTensorDecl = Pick<PlacedParameter, 'name' | 'shape' | 'transposedInTorch' | 'torchShape'>;

const declsOf = (of: Architecture | TorchTensorDecl[]) => (Array.isArray(of) ? of : parametersOf(of));

/** Engine flat layout → PyTorch tensors (linear weights [in × out] transposed to [out, in]; a transpose is exact). */
export function toTorchTensors(flat: Float32Array, layout: ParamLayout, of: Architecture | TorchTensorDecl[], prefix = ''): [string, Tensor][] {
  return declsOf(of).map((p): [string, Tensor] => {
    const slot = slotOf(layout, p.name);
    const values = flat.slice(slot.offset, slot.offset + slot.length);
    if (!p.transposedInTorch) return [`${prefix}${p.name}`, { shape: p.shape, data: values }];
    const [rows, cols] = p.shape;
    const data = new Float32Array(values.length);
    for (let i = 0; i < rows; i++) for (let o = 0; o < cols; o++) data[o * rows + i] = values[i * cols + o];
    return [`${prefix}${p.name}`, { shape: torchShape(p), data }];
  });
}

/** The tensor `name` of a state, there and in PyTorch's `shape`, or an error naming both. */
function tensorOfShape(tensors: Map<string, Tensor>, source: string, name: string, shape: readonly number[]): Tensor {
  const t = tensors.get(name);
  if (!t) throw new BadInputError(`${source}: missing tensor ${name} (expected shape [${shape.join(', ')}])`, { file: source, tensor: name });
  if (t.shape.join() !== shape.join()) throw new BadInputError(`${source}: tensor ${name} has shape [${t.shape.join(', ')}], the model needs [${shape.join(', ')}]`, { file: source, tensor: name });
  return t;
}

/**
 * Each parameter's tensor is there with PyTorch's shape: checked on the state alone, before a model of the
 * architecture its metadata claims is allocated (a small file cannot make the engine build a huge model).
 */
function checkTensorShapes(tensors: Map<string, Tensor>, source: string, arch: Architecture): void {
  for (const p of [...parametersOf(arch), ...statesOf(arch)]) tensorOfShape(tensors, source, p.name, torchShape(p));
}

/** What a model is made of, without its training state: what ONNX export and a model's weights need. */
export type ModelTensors = Pick<ModelState, 'inputs' | 'layers' | 'input' | 'pixelMean' | 'pixelStd' | 'tensors' | 'loss'>;

/** Runs `check`, giving its BadInputError the source's name when it has none (the library's own checks name no file). */
function namingSource<T>(source: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof BadInputError && !e.where.file) throw new BadInputError(`${source}: ${e.message}`, { ...e.where, file: source });
    throw e;
  }
}

/**
 * The one check of a model's weights, shared by every reader of a model file (importState, fromState) and by
 * ONNX export, all before anything is allocated or written: the architecture and pixel normalization the state
 * claims can be built, each of its tensors is there with PyTorch's shape and finite values, batch norm's
 * running variances are not negative, and no tensor is left over (as PyTorch's strict load).
 */
export function checkModelTensors(state: ModelTensors, source: string): Architecture {
  const arch = namingSource(source, () => architectureOf({ inputs: state.inputs, layers: state.layers, loss: lossOf(state.loss) }));
  namingSource(source, () => inputEncodingOf(state));
  // Shapes first: the flat copies below are the size the architecture claims, not the file's.
  checkTensorShapes(state.tensors, source, arch);
  const align = 16;
  fromTorchTensors(state.tensors, source, makeParamLayout(parametersOf(arch), align), arch);
  const states = statesOf(arch);
  const stateLayout = makeParamLayout(states, align);
  const kept = fromTorchTensors(state.tensors, source, stateLayout, states);
  for (const s of states.filter((s) => s.role === 'running_var')) {
    const slot = slotOf(stateLayout, s.name);
    if (kept.subarray(slot.offset, slot.offset + slot.length).some((v) => v < 0)) throw new BadInputError(`${source}: ${s.name} holds a negative variance`, { file: source, tensor: s.name });
  }
  const known = new Set([
    ...parametersOf(arch).map((p) => p.name), ...states.map((s) => s.name),
    ...arch.layers.filter((l) => l.spec.kind === 'batchnorm').map((l) => `${l.index}.num_batches_tracked`),
  ]);
  const extra = [...state.tensors.keys()].filter((name) => !known.has(name));
  if (extra.length) throw new BadInputError(`${source}: tensor ${extra[0]}${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''} has no place in ${arch.name}`, { file: source, tensor: extra[0] });
  return arch;
}

/**
 * checkModelTensors, any recipe, and a full state's training part too (counts, seed, optimizer state): everything a
 * model checks when it takes the state. Export and model loading go through this one check.
 */
export function checkModelState(state: ModelState, source: string): { arch: Architecture; recipe?: TrainingRecipe & { optimizer: Required<OptimizerConfig> } } {
  const arch = checkModelTensors(state, source);
  checkTrainingCounts(state, source);
  const training = state.training;
  // A weights-only state's recipe says how it was trained (the model reports it): checked as a full state's is.
  if (!training) return { arch, ...(state.recipe && { recipe: checkRecipe(state.recipe, source) }) };
  if (!(Number.isInteger(state.seed) && state.seed >= 0 && state.seed < 2 ** 32)) throw new BadInputError(`${source}: seed ${state.seed} is not an integer in 0..2³²−1`, { file: source });
  const recipe = state.recipe ? checkRecipe(state.recipe, source) : undefined;
  if (recipe) optimizerStateFromTensors(training, state.step, recipe.optimizer.kind, source, makeParamLayout(parametersOf(arch), 16), arch);
  return { arch, recipe };
}

/** PyTorch tensors → engine flat layout, checking every name, shape and value first. */
export function fromTorchTensors(tensors: Map<string, Tensor>, source: string, layout: ParamLayout, of: Architecture | TorchTensorDecl[], prefix = ''): Float32Array<ArrayBuffer> {
  const flat = new Float32Array(layout.totalLength);
  for (const p of declsOf(of)) {
    const name = `${prefix}${p.name}`;
    const t = tensorOfShape(tensors, source, name, torchShape(p));
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new BadInputError(`${source}: tensor ${name} holds ${t.data.length} values for shape [${t.shape.join(', ')}]`, { file: source });
    for (const x of t.data) if (!Number.isFinite(x)) throw new BadInputError(`${source}: tensor ${name} holds a non-finite value`, { file: source });
    const offset = slotOf(layout, p.name).offset;
    if (!p.transposedInTorch) {
      flat.set(t.data, offset);
      continue;
    }
    const [rows, cols] = p.shape;
    for (let i = 0; i < rows; i++) for (let o = 0; o < cols; o++) flat[offset + i * cols + o] = t.data[o * rows + i];
  }
  return flat;
}

/**
 * A state fits a model when the layer lists agree up to dropout rates (which hold no parameters): the same
 * kinds at the same indices, the same widths.
 */
export function checkSameModel(state: Pick<ModelState, 'inputs' | 'layers' | 'input'>, arch: Architecture, input: InputKind, source: string): void {
  if (state.input !== input) throw new BadInputError(`${source}: holds a model of ${state.input} inputs, this one takes ${input}`, { file: source });
  // Dropout's rate is a training choice, not part of the model.
  const shape = (l: LayerSpec) => (l.kind === 'dropout' ? l.kind : formatLayers([l]));
  const inputs = formatShape(checkedInputShape(state.inputs));
  if (inputs === formatShape(arch.inputShape) && state.layers.map(shape).join() === arch.layers.map((l) => shape(l.spec)).join()) return;
  throw new BadInputError(`${source}: holds the model ${inputs} → ${formatLayers(state.layers)}, this one is ${arch.name}`, { file: source });
}

/** The recipe, checked: optimizer resolved (an error names the source), schedule and numbers in range. */
export function checkRecipe(recipe: TrainingRecipe, source: string): TrainingRecipe & { optimizer: Required<OptimizerConfig> } {
  const bad = (what: string, e: unknown) => new BadInputError(`${source}: ${what} (${(e as Error).message ?? e})`, { file: source });
  let optimizer: Required<OptimizerConfig>;
  try {
    optimizer = resolveOptimizer(recipe.optimizer);
  } catch (e) {
    throw bad('the optimizer is not a valid optimizer config', e);
  }
  try {
    if (recipe.schedule) validateSchedule(recipe.schedule);
  } catch (e) {
    throw bad('the schedule is not a valid schedule', e);
  }
  if (!(Number.isInteger(recipe.batchSize) && recipe.batchSize >= 1)) throw bad('the batch size is not a positive integer', recipe.batchSize);
  const ls = recipe.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls < 1)) throw bad('label smoothing is not in [0, 1)', ls);
  if (recipe.maxNorm !== undefined && !(recipe.maxNorm > 0)) throw bad('max-norm is not positive', recipe.maxNorm);
  return { ...recipe, optimizer };
}

/** The optimizer state as flat buffers in the engine's layout, checked (Adam's second moment cannot be negative). */
export function optimizerStateFromTensors(
  training: TrainingState, step: number, kind: OptimizerKind, source: string, layout: ParamLayout, arch: Architecture,
): Float32Array<ArrayBuffer>[] {
  if (step === 0) return [];
  const state = OPTIMIZER_STATE_NAMES[kind].map((n) => fromTorchTensors(training.optimizer, source, layout, arch, `optimizer.${n}.`));
  if (kind !== 'sgd' && state[1].some((v) => v < 0)) {
    throw new BadInputError(`${source}: optimizer.exp_avg_sq holds a negative value, which no Adam run produces`, { file: source, tensor: 'optimizer.exp_avg_sq' });
  }
  return state;
}

/** Counts and the RNG state of a full state, checked. */
export function checkTrainingCounts(state: ModelState, source: string): void {
  const t = state.training;
  for (const key of ['epochs', 'step'] as const) {
    if (!(Number.isInteger(state[key]) && state[key] >= 0)) throw new BadInputError(`${source}: ${key} ${state[key]} is not a count`, { file: source });
  }
  if (!t) return;
  if (t.rng.length !== 4) throw new BadInputError(`${source}: the RNG state is ${t.rng.length} numbers, not 4`, { file: source });
  if (state.step > 0 && !state.recipe) throw new BadInputError(`${source}: optimizer state without the recipe (optimizer) it belongs to`, { file: source });
}
