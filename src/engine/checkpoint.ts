// Checkpoints as safetensors, named and laid out like the state dict of the PyTorch nn.Sequential that the
// model's list of layers spells, e.g. nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10)):
//   "0.weight" [500, 784], "0.bias" [500], "2.weight" [10, 500], "2.bias" [10]
// (a Dropout takes an index too, as in PyTorch), so torch's load_state_dict(strict=True) takes the weights file
// unchanged. The engine stores linear weights [in × out]; they are transposed on the way out and back in
// (exact: a transpose moves values, it does not round them). The metadata holds the layer list ("layers") and
// the input kind ("input": u8 or f32; files written before it existed hold u8 models), the loss ("loss":
// cross-entropy, mse or bce; files written before it existed hold cross-entropy models), and the frozen layers'
// indices ("frozen": "0,3"; absent when none are, as in files written before it existed).
// A full checkpoint adds the optimizer state ("optimizer.exp_avg.0.weight", … as PyTorch names them), and the
// step count, epoch and RNG state in the metadata, so that resuming continues the run bit for bit.
// The file is a codec over ModelState (modelState.ts): Model.exportState / importState do the rest and the checks.
import { BadInputError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type Tensor } from '../data/safetensors.js';
import { ENGINE_VERSION } from '../version.js';
import { linearWidths, validateSizes, type NetworkConfig } from './mlp.js';
import type { ModelState } from './modelState.js';
import type { ScheduleConfig } from './schedule.js';
import { formatLayers, mlpLayerSpecs, parseLayers, type LayerSpec } from '../layers/index.js';
import { architecture, freezeLayers } from '../layers/architecture.js';
import { checkedInputShape, inputShapeText, parseInputShape, type InputShape } from '../layers/shape.js';
import type { InputKind } from '../data/dataset.js';
import { formatAugmentation, parseAugmentation, type Augmentation } from '../augment/spec.js';
import { LOSSES, type LossKind } from '../data/loss.js';

export const CHECKPOINT_FORMAT = 'webgpu-mlp';

/**
 * The layers and input width a file holds: its metadata "layers" when present, else the plain MLP of its
 * metadata "sizes", else the shapes of 0.weight, 2.weight, … of a PyTorch Linear/ReLU stack.
 */
export function checkpointLayers(file: SafetensorsFile, fileName: string): { layers: LayerSpec[]; inputs: InputShape } {
  const m = file.metadata;
  if (m.layers !== undefined) {
    let inputs: InputShape;
    try {
      const shape = parseInputShape(m.inputs ?? '');
      inputs = shape.length === 1 ? shape[0] : [...shape];
    } catch {
      throw new BadInputError(`${fileName}: metadata inputs '${m.inputs}' is not a positive integer width or a [channels, height, width] shape`, { file: fileName });
    }
    let layers: LayerSpec[];
    try {
      layers = parseLayers(m.layers);
    } catch (e) {
      throw new BadInputError(`${fileName}: metadata layers '${m.layers}' is not a valid layer list (${(e as Error).message})`, { file: fileName });
    }
    return { layers: frozenFromMetadata(layers, m.frozen, fileName), inputs };
  }
  const sizes = checkpointSizes(file, fileName);
  return { layers: mlpLayerSpecs(sizes), inputs: sizes[0] };
}

/** The layers with the metadata's "frozen" indices (`trainable: false`); files without it hold every layer trainable. */
function frozenFromMetadata(layers: LayerSpec[], frozen: string | undefined, fileName: string): LayerSpec[] {
  if (frozen === undefined) return layers;
  const indices = frozen.split(',').map((x) => (/^\d+$/.test(x) ? Number(x) : NaN));
  try {
    if (indices.some((i) => !Number.isSafeInteger(i))) throw new Error('not layer indices separated by commas');
    // Whether each names a layer with parameters is checked where the model is built, on its input shape.
    return freezeLayers(layers, indices);
  } catch (e) {
    throw new BadInputError(`${fileName}: metadata frozen '${frozen}' is not valid for its layers (${(e as Error).message})`, { file: fileName });
  }
}

/**
 * Widths of a Linear/ReLU stack, inputs first, for files without "layers": older files' metadata "sizes", else
 * the shapes of 0.weight, 2.weight, … of a PyTorch state dict.
 */
function checkpointSizes(file: SafetensorsFile, fileName: string): number[] {
  if (file.metadata.sizes) {
    try {
      const sizes = JSON.parse(file.metadata.sizes) as number[];
      if (!Array.isArray(sizes)) throw new Error('not a list');
      validateSizes(sizes, minOutputsOf(file, fileName));
      return sizes;
    } catch (e) {
      throw new BadInputError(`${fileName}: metadata sizes '${file.metadata.sizes}' is not a valid list of layer sizes (${(e as Error).message})`, { file: fileName });
    }
  }
  const sizes: number[] = [];
  for (let l = 0; file.tensors.has(`${2 * l}.weight`); l++) {
    const [out, inp] = file.tensors.get(`${2 * l}.weight`)!.shape;
    if (l === 0) sizes.push(inp);
    else if (sizes[sizes.length - 1] !== inp) throw new BadInputError(`${fileName}: ${2 * l}.weight takes ${inp} inputs but the layer before gives ${sizes[sizes.length - 1]}`, { file: fileName });
    sizes.push(out);
  }
  if (sizes.length < 2) throw new BadInputError(`${fileName}: no tensor 0.weight: not an MLP state dict (tensors: ${[...file.tensors.keys()].slice(0, 6).join(', ')})`, { file: fileName });
  validateSizes(sizes, minOutputsOf(file, fileName));
  return sizes;
}

/** The loss a file's model trains with: its metadata "loss", or 'cross-entropy' when absent (older files, PyTorch's). */
export function checkpointLoss(file: SafetensorsFile, fileName: string): LossKind {
  const loss = file.metadata.loss ?? 'cross-entropy';
  if (!LOSSES.includes(loss as LossKind)) throw new BadInputError(`${fileName}: metadata loss '${loss}' is not one of ${LOSSES.join(', ')}`, { file: fileName, value: loss });
  return loss as LossKind;
}

/** A softmax needs 2 classes; a regression or multi-label model may have 1 output. */
const minOutputsOf = (file: SafetensorsFile, fileName: string) => (checkpointLoss(file, fileName) === 'cross-entropy' ? 2 : 1);

/** A number from the metadata (undefined when absent), or an error naming the key, its value and what it must be. */
function metadataNumber(file: SafetensorsFile, fileName: string, key: string, want: string, ok: (x: number) => boolean): number | undefined {
  const raw = file.metadata[key];
  if (raw === undefined) return undefined;
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new BadInputError(`${fileName}: metadata ${key} '${raw}' is not ${want}`, { file: fileName });
  return x;
}

const seedOf = (file: SafetensorsFile, fileName: string) =>
  metadataNumber(file, fileName, 'seed', 'an integer in 0..2³²−1', (x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32);

/** The input kind a file's model takes: its metadata "input", or u8 when absent (files from before f32 inputs). */
export function checkpointInput(file: SafetensorsFile, fileName: string): InputKind {
  const input = file.metadata.input ?? 'u8';
  if (input !== 'u8' && input !== 'f32') throw new BadInputError(`${fileName}: metadata input '${input}' is not u8 or f32`, { file: fileName });
  return input;
}

/** The metadata keys this engine writes (encodeModelState): a file that names another format has no business with them. */
const ENGINE_KEYS = [
  'engine_version', 'architecture', 'inputs', 'layers', 'frozen', 'sizes', 'seed', 'input', 'pixel_mean', 'pixel_std', 'loss', 'epoch', 'step', 'batch_size',
  'optimizer', 'schedule', 'label_smoothing', 'max_norm', 'augment', 'full_checkpoint', 'rng_state', 'kernels', 'matmul_variants',
];

/**
 * A file this engine wrote says so (`format`); one from a newer engine (a higher major version, or minor before
 * 1.0) is refused rather than read by guesswork. Another tool's file (PyTorch's safetensors writer says
 * `format: pt`) is a plain state dict, read by its tensors as one without metadata is; but one that names
 * another format and carries this engine's keys is refused: which of the two it is cannot be told.
 */
function checkFormat(file: SafetensorsFile, fileName: string): void {
  const { format, engine_version: version } = file.metadata;
  if (format !== undefined && format !== CHECKPOINT_FORMAT && ENGINE_KEYS.some((k) => Object.hasOwn(file.metadata, k))) {
    throw new BadInputError(`${fileName}: metadata format '${format}' is not this engine's ('${CHECKPOINT_FORMAT}')`, { file: fileName, value: format });
  }
  if (version === undefined) return;
  const parts = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!parts) throw new BadInputError(`${fileName}: metadata engine_version '${version}' is not a version (major.minor.patch)`, { file: fileName, value: version });
  const [major, minor] = [Number(parts[1]), Number(parts[2])];
  const [ourMajor, ourMinor] = ENGINE_VERSION.split('.').map(Number);
  if (major > ourMajor || (major === 0 && ourMajor === 0 && minor > ourMinor)) {
    throw new BadInputError(`${fileName}: written by engine ${version}, newer than this one (${ENGINE_VERSION}); update webgpu-mlp to read it`, { file: fileName, value: version });
  }
}

/** Options to build a Model matching a file: layers, seed, input kind and (for u8 pixels) their normalization. */
export function modelOptionsFromCheckpoint(file: SafetensorsFile, fileName: string): NetworkConfig {
  checkFormat(file, fileName);
  const input = checkpointInput(file, fileName);
  const loss = checkpointLoss(file, fileName);
  return {
    ...checkpointLayers(file, fileName),
    seed: seedOf(file, fileName) ?? 0,
    input,
    ...(loss !== 'cross-entropy' && { loss }),
    ...(input === 'u8' && {
      pixelMean: metadataNumber(file, fileName, 'pixel_mean', 'a valid number', () => true) ?? 0,
      pixelStd: metadataNumber(file, fileName, 'pixel_std', 'a positive number', (x) => x > 0) ?? 1,
    }),
  };
}

/** Options of Model.toSafetensors (and saveCheckpoint): what the file holds besides the weights. */
export interface SaveOptions {
  /** Add optimizer state, step and RNG state, for resuming. Default false (weights only). */
  full?: boolean;
  /** Extra string entries for the file's metadata; written last, so a key the engine also writes takes this value. */
  metadata?: Record<string, string>;
}

/** The frozen layers' indices ("frozen": "0,3"), when some are: the written layer form does not hold them. */
function frozenMetadata(layers: readonly LayerSpec[]): { frozen?: string } {
  const frozen = layers.flatMap((l, i) => (l.trainable === false ? [i] : []));
  return frozen.length ? { frozen: frozen.join(',') } : {};
}

/** A state as safetensors: its tensors (weights, then optimizer state) and its scalars in the metadata. */
export function encodeModelState(state: ModelState, metadata: Record<string, string> = {}): Uint8Array<ArrayBuffer> {
  const recipe = state.recipe;
  const loss = state.loss ?? 'cross-entropy';
  const arch = architecture(state.layers, state.inputs, loss === 'cross-entropy' ? 2 : 1);
  const fields: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    engine_version: ENGINE_VERSION,
    architecture: arch.name,
    inputs: inputShapeText(checkedInputShape(state.inputs)),
    layers: formatLayers(state.layers),
    ...frozenMetadata(state.layers),
    // Older readers build the model from this when it is an MLP.
    sizes: JSON.stringify(linearWidths(arch)),
    seed: String(state.seed),
    input: state.input,
    ...(state.input === 'u8' && { pixel_mean: String(state.pixelMean ?? 0), pixel_std: String(state.pixelStd ?? 1) }),
    loss,
    epoch: String(state.epochs),
    step: String(state.step),
    ...(recipe ? { batch_size: String(recipe.batchSize), optimizer: JSON.stringify(recipe.optimizer) } : {}),
    ...(recipe?.schedule ? { schedule: JSON.stringify(recipe.schedule) } : {}),
    ...(recipe?.labelSmoothing ? { label_smoothing: String(recipe.labelSmoothing) } : {}),
    ...(recipe?.maxNorm ? { max_norm: String(recipe.maxNorm) } : {}),
    ...(recipe?.augment ? { augment: formatAugmentation(recipe.augment) } : {}),
    ...metadata,
  };
  const tensors: [string, Tensor][] = [...state.tensors];
  if (state.training) {
    fields.full_checkpoint = 'true';
    fields.rng_state = Array.from(state.training.rng).join(',');
    if (state.training.kernels) {
      fields.kernels = state.training.kernels.digest;
      fields.matmul_variants = JSON.stringify(state.training.kernels.matmuls);
    }
    tensors.push(...state.training.optimizer);
  }
  return encodeSafetensors(tensors, fields);
}

/** The metadata's augment recipe, or an error naming the file and the key. */
function metadataAugmentation(text: string, fileName: string): Augmentation | undefined {
  try {
    return parseAugmentation(text, 'augment');
  } catch (e) {
    throw new BadInputError(`${fileName}: metadata ${(e as Error).message}`, { file: fileName });
  }
}

/** A JSON value from the metadata, or an error naming the key. */
function metadataJson<T>(file: SafetensorsFile, fileName: string, key: string, what: string): T | undefined {
  const raw = file.metadata[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw new BadInputError(`${fileName}: metadata ${key} is not ${what} (${(e as Error).message})`, { file: fileName });
  }
}

/**
 * The state a file holds: this engine's checkpoint, or a PyTorch nn.Sequential state dict. Shapes and values
 * are checked when a model imports it. The epoch and step counts and the recipe are read from any file that
 * records them (a loaded model reports them); the training state (optimizer, RNG, kernels) from full checkpoints.
 */
export function decodeModelState(source: Uint8Array | SafetensorsFile, fileName: string): ModelState {
  const file = source instanceof Uint8Array ? decodeSafetensors(source, fileName) : source;
  const m = file.metadata;
  const tensors = new Map([...file.tensors].filter(([name]) => !name.startsWith('optimizer.')));
  const { inputs, layers, seed, input, pixelMean, pixelStd } = modelOptionsFromCheckpoint(file, fileName) as Required<NetworkConfig>;
  // A file that records its loss is that task's model; one without (older, PyTorch's) may be loaded into any.
  const loss = m.loss === undefined ? {} : { loss: checkpointLoss(file, fileName) };
  const state: ModelState = { inputs, layers, seed, input, ...(input === 'u8' && { pixelMean, pixelStd }), ...loss, tensors, epochs: 0, step: 0 };
  const count = (key: string) => metadataNumber(file, fileName, key, 'a count', (x) => Number.isInteger(x) && x >= 0) ?? 0;
  state.epochs = count('epoch');
  state.step = count('step');
  if (m.full_checkpoint === 'true') {
    const rngWords = (m.rng_state ?? '').split(',');
    const rng = Uint32Array.from(rngWords.map(Number));
    if (rng.length !== 4 || rng.some((x, i) => String(x) !== rngWords[i])) throw new BadInputError(`${fileName}: metadata rng_state is not 4 integers`, { file: fileName });
    state.training = { rng, optimizer: new Map([...file.tensors].filter(([name]) => name.startsWith('optimizer.'))) };
    if (m.kernels !== undefined) {
      const matmuls = metadataJson<unknown>(file, fileName, 'matmul_variants', 'a JSON list of kernel names') ?? [];
      if (!/^[0-9a-f]{16}$/.test(m.kernels) || !Array.isArray(matmuls) || !matmuls.every((x) => typeof x === 'string')) {
        throw new BadInputError(`${fileName}: metadata kernels/matmul_variants are not a 16-digit hex digest and a list of names`, { file: fileName });
      }
      state.training.kernels = { digest: m.kernels, matmuls };
    }
  }
  const batchSize = metadataNumber(file, fileName, 'batch_size', 'a positive integer', (x) => Number.isInteger(x) && x >= 1);
  if (batchSize !== undefined) {
    state.recipe = {
      batchSize,
      optimizer: metadataJson(file, fileName, 'optimizer', 'a valid optimizer config') ?? { kind: 'adam', lr: 1e-3 },
      schedule: metadataJson<ScheduleConfig>(file, fileName, 'schedule', 'a valid schedule'),
      labelSmoothing: metadataNumber(file, fileName, 'label_smoothing', 'in [0, 1)', (x) => x >= 0 && x < 1) ?? 0,
      maxNorm: metadataNumber(file, fileName, 'max_norm', 'a positive number', (x) => x > 0),
      augment: m.augment === undefined ? undefined : metadataAugmentation(m.augment, fileName),
    };
  }
  return state;
}

/** What saving and loading need of a model (Model has both), named here so this codec does not import it. */
export interface CheckpointTarget {
  /** The model as safetensors bytes. */
  toSafetensors(options?: SaveOptions): Promise<Uint8Array<ArrayBuffer>>;
  /** Replaces the model's weights (and training state) with `state`; `source` names it in errors. */
  importState(state: ModelState, source?: string): void;
}

/** The model as safetensors bytes: Model.toSafetensors, kept as a function for existing callers. */
export async function saveCheckpoint(model: CheckpointTarget, options: SaveOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  return model.toSafetensors(options);
}

/**
 * Loads weights (and, from a full checkpoint, optimizer state, step, epoch and RNG state) into `model`.
 * Everything is decoded and checked before anything is written, so a bad file leaves the model as it was.
 */
export function loadCheckpoint(model: CheckpointTarget, source: Uint8Array | SafetensorsFile, fileName: string): SafetensorsFile {
  // Callers that already decoded the file (to shape the model) pass it as is: it is read once.
  const file = source instanceof Uint8Array ? decodeSafetensors(source, fileName) : source;
  model.importState(decodeModelState(file, fileName), fileName);
  return file;
}
