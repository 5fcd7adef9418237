// Checkpoints as safetensors, named and laid out like the state dict of the PyTorch nn.Sequential that the
// model's list of layers spells, e.g. nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10)):
//   "0.weight" [500, 784], "0.bias" [500], "2.weight" [10, 500], "2.bias" [10]
// (a Dropout takes an index too, as in PyTorch), so torch's load_state_dict(strict=True) takes the weights file
// unchanged. The engine stores linear weights [in × out]; they are transposed on the way out and back in
// (exact: a transpose moves values, it does not round them). The metadata holds the layer list ("layers") and
// the input kind ("input": u8 or f32; files written before it existed hold u8 models).
// A full checkpoint adds the optimizer state ("optimizer.exp_avg.0.weight", … as PyTorch names them), and the
// step count, epoch and RNG state in the metadata, so that resuming continues the run bit for bit.
import { BadInputError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type Tensor } from '../data/safetensors.js';
import { ENGINE_VERSION } from '../version.js';
import type { Model, ModelOptions } from './model.js';
import { validateSizes } from './mlp.js';
import { resolveOptimizer, type OptimizerConfig } from './optimizer.js';
import { slotOf, type ParamLayout } from './paramLayout.js';
import { validateSchedule, type ScheduleConfig } from './schedule.js';
import { parametersOf, type Architecture } from '../layers/architecture.js';
import { formatLayers, mlpLayerSpecs, parseLayers, type LayerSpec } from '../layers/index.js';
import type { InputKind } from '../data/dataset.js';

export const CHECKPOINT_FORMAT = 'webgpu-mlp';

const STATE_NAMES: Record<string, string[]> = { adam: ['exp_avg', 'exp_avg_sq'], adamw: ['exp_avg', 'exp_avg_sq'], sgd: ['momentum_buffer'] };

const torchShape = (shape: number[], transposed: boolean) => (transposed ? [...shape].reverse() : shape);

/** Engine flat layout → PyTorch tensors (linear weights transposed to [out, in]). */
function toTorchTensors(flat: Float32Array, layout: ParamLayout, arch: Architecture, prefix = ''): [string, Tensor][] {
  return parametersOf(arch).map((p): [string, Tensor] => {
    const slot = slotOf(layout, p.name);
    const values = flat.slice(slot.offset, slot.offset + slot.length);
    if (!p.transposedInTorch) return [`${prefix}${p.name}`, { shape: p.shape, data: values }];
    const [rows, cols] = p.shape;
    const data = new Float32Array(values.length);
    for (let i = 0; i < rows; i++) for (let o = 0; o < cols; o++) data[o * rows + i] = values[i * cols + o];
    return [`${prefix}${p.name}`, { shape: torchShape(p.shape, true), data }];
  });
}

/** PyTorch tensors → engine flat layout, checking every name and shape first. */
function fromTorchTensors(file: SafetensorsFile, fileName: string, layout: ParamLayout, arch: Architecture, prefix = ''): Float32Array<ArrayBuffer> {
  const flat = new Float32Array(layout.totalLength);
  for (const p of parametersOf(arch)) {
    const name = `${prefix}${p.name}`;
    const shape = torchShape(p.shape, p.transposedInTorch);
    const t = file.tensors.get(name);
    if (!t) throw new BadInputError(`${fileName}: missing tensor ${name} (expected shape [${shape.join(', ')}])`, { file: fileName });
    if (t.shape.join() !== shape.join()) throw new BadInputError(`${fileName}: tensor ${name} has shape [${t.shape.join(', ')}], the model needs [${shape.join(', ')}]`, { file: fileName });
    for (const x of t.data) if (!Number.isFinite(x)) throw new BadInputError(`${fileName}: tensor ${name} holds a non-finite value`, { file: fileName });
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
 * The layers and input width a file holds: its metadata "layers" when present, else the plain MLP of its
 * metadata "sizes", else the shapes of 0.weight, 2.weight, … of a PyTorch Linear/ReLU stack.
 */
export function checkpointLayers(file: SafetensorsFile, fileName: string): { layers: LayerSpec[]; inputs: number } {
  const m = file.metadata;
  if (m.layers !== undefined) {
    const inputs = Number(m.inputs);
    if (!(Number.isInteger(inputs) && inputs >= 1)) throw new BadInputError(`${fileName}: metadata inputs '${m.inputs}' is not a positive integer`, { file: fileName });
    try {
      return { layers: parseLayers(m.layers), inputs };
    } catch (e) {
      throw new BadInputError(`${fileName}: metadata layers '${m.layers}' is not a valid layer list (${(e as Error).message})`, { file: fileName });
    }
  }
  const sizes = checkpointSizes(file, fileName);
  return { layers: mlpLayerSpecs(sizes), inputs: sizes[0] };
}

/** Layer sizes of a Linear/ReLU stack: the metadata when present, else the shapes of 0.weight, 2.weight, … */
export function checkpointSizes(file: SafetensorsFile, fileName: string): number[] {
  if (file.metadata.sizes) {
    try {
      const sizes = JSON.parse(file.metadata.sizes) as number[];
      if (!Array.isArray(sizes)) throw new Error('not a list');
      validateSizes(sizes);
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
  validateSizes(sizes);
  return sizes;
}

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

/** Options to build a Model matching a file: layers, seed, input kind and (for u8 pixels) their normalization. */
export function modelOptionsFromCheckpoint(file: SafetensorsFile, fileName: string): ModelOptions {
  const input = checkpointInput(file, fileName);
  return {
    ...checkpointLayers(file, fileName),
    seed: seedOf(file, fileName) ?? 0,
    input,
    ...(input === 'u8' && {
      pixelMean: metadataNumber(file, fileName, 'pixel_mean', 'a valid number', () => true) ?? 0,
      pixelStd: metadataNumber(file, fileName, 'pixel_std', 'a positive number', (x) => x > 0) ?? 1,
    }),
  };
}

export interface SaveOptions {
  /** Add optimizer state, step and RNG state, for resuming. Default false (weights only). */
  full?: boolean;
  metadata?: Record<string, string>;
}

export async function saveCheckpoint(model: Model, options: SaveOptions = {}): Promise<Uint8Array> {
  const { layout } = model.parameters;
  const tensors = toTorchTensors(await model.getParams(), layout, model.architecture);
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    engine_version: ENGINE_VERSION,
    architecture: `${model.architecture.inputs} → ${model.architecture.text}`,
    inputs: String(model.architecture.inputs),
    layers: model.architecture.text,
    sizes: JSON.stringify(model.sizes),
    seed: String(model.seed),
    input: model.input,
    ...(model.input === 'u8' && { pixel_mean: String(model.pixelNormalization.mean), pixel_std: String(model.pixelNormalization.std) }),
    epoch: String(model.epochs),
    step: String(model.optimizer?.step ?? 0),
    ...(model.lastFit ? { batch_size: String(model.lastFit.batchSize), optimizer: JSON.stringify(model.optimizer?.config ?? model.lastFit.optimizer) } : {}),
    ...(model.lastFit?.schedule ? { schedule: JSON.stringify(model.lastFit.schedule) } : {}),
    ...(model.lastFit?.labelSmoothing ? { label_smoothing: String(model.lastFit.labelSmoothing) } : {}),
    ...(model.lastFit?.maxNorm ? { max_norm: String(model.lastFit.maxNorm) } : {}),
    ...options.metadata,
  };
  if (options.full) {
    metadata.full_checkpoint = 'true';
    metadata.rng_state = Array.from(model.random.state).join(',');
    const optimizer = model.optimizer;
    if (optimizer) {
      const names = STATE_NAMES[optimizer.config.kind];
      for (let i = 0; i < names.length; i++) {
        tensors.push(...toTorchTensors(await model.parameters.download(optimizer.state[i]), layout, model.architecture, `optimizer.${names[i]}.`));
      }
    }
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Loads weights (and, from a full checkpoint, optimizer state, step, epoch and RNG state) into `model`.
 * Everything is decoded and checked before anything is written, so a bad file leaves the model as it was.
 */
export function loadCheckpoint(model: Model, source: Uint8Array | SafetensorsFile, fileName: string): SafetensorsFile {
  // Callers that already decoded the file (to shape the model) pass it as is: it is read once.
  const file = source instanceof Uint8Array ? decodeSafetensors(source, fileName) : source;
  const held = checkpointLayers(file, fileName);
  const arch = model.architecture;
  if (!sameParameters(held, arch)) {
    throw new BadInputError(`${fileName}: holds the model ${held.inputs} → ${formatLayers(held.layers)}, this one is ${arch.inputs} → ${arch.text}`, { file: fileName });
  }
  const input = checkpointInput(file, fileName);
  if (input !== model.input) throw new BadInputError(`${fileName}: holds a model of ${input} inputs, this one takes ${model.input}`, { file: fileName });
  const { layout } = model.parameters;
  const params = fromTorchTensors(file, fileName, layout, arch);
  const m = file.metadata;
  let resume: { optimizer: OptimizerConfig; state: Float32Array<ArrayBuffer>[]; step: number; rng: Uint32Array; epoch: number; schedule?: ScheduleConfig; labelSmoothing: number; maxNorm?: number; seed?: number } | undefined;
  if (m.full_checkpoint === 'true') {
    let optimizer: ReturnType<typeof resolveOptimizer>;
    try {
      optimizer = resolveOptimizer(JSON.parse(m.optimizer ?? 'null') ?? { kind: 'adam', lr: 1e-3 });
    } catch (e) {
      throw new BadInputError(`${fileName}: metadata optimizer is not a valid optimizer config (${(e as Error).message})`, { file: fileName });
    }
    const rng = Uint32Array.from((m.rng_state ?? '').split(',').map(Number));
    if (rng.length !== 4 || rng.some((x, i) => String(x) !== (m.rng_state ?? '').split(',')[i])) throw new BadInputError(`${fileName}: metadata rng_state is not 4 integers`, { file: fileName });
    const step = Number(m.step);
    const epoch = Number(m.epoch);
    if (!Number.isInteger(step) || step < 0 || !Number.isInteger(epoch) || epoch < 0) throw new BadInputError(`${fileName}: metadata step/epoch are not counts`, { file: fileName });
    let schedule: ScheduleConfig | undefined;
    try {
      schedule = m.schedule === undefined ? undefined : (JSON.parse(m.schedule) as ScheduleConfig);
      if (schedule) validateSchedule(schedule);
    } catch (e) {
      throw new BadInputError(`${fileName}: metadata schedule is not a valid schedule (${(e as Error).message})`, { file: fileName });
    }
    const labelSmoothing = metadataNumber(file, fileName, 'label_smoothing', 'in [0, 1)', (x) => x >= 0 && x < 1) ?? 0;
    const maxNorm = metadataNumber(file, fileName, 'max_norm', 'a positive number', (x) => x > 0);
    const state = step > 0 ? STATE_NAMES[optimizer.kind].map((n) => fromTorchTensors(file, fileName, layout, arch, `optimizer.${n}.`)) : [];
    // Adam's second moment is a running mean of squares: a negative one cannot come from training.
    if (optimizer.kind !== 'sgd' && state[1]?.some((v) => v < 0)) {
      throw new BadInputError(`${fileName}: optimizer.exp_avg_sq holds a negative value, which no Adam run produces`, { file: fileName, tensor: 'optimizer.exp_avg_sq' });
    }
    // The seed keys dropout's masks: the resumed run draws the masks the uninterrupted one would have.
    const seed = seedOf(file, fileName);
    resume = { optimizer, state, step, rng, epoch, schedule, labelSmoothing, maxNorm, seed };
  }
  model.setParams(params);
  // Weights alone (or a checkpoint taken before any step) carry no optimizer state: start it fresh.
  if (!resume || resume.state.length === 0) model.resetOptimizer();
  if (resume) {
    const optimizer = model.useOptimizer(resume.optimizer);
    resume.state.forEach((s, i) => model.parameters.device.queue.writeBuffer(optimizer.state[i], 0, s));
    optimizer.step = resume.step;
    model.random.state = resume.rng;
    if (resume.seed !== undefined) model.seed = resume.seed;
    model.epochs = resume.epoch;
    const batchSize = Number(m.batch_size);
    if (Number.isInteger(batchSize) && batchSize >= 1) model.lastFit = { batchSize, optimizer: resume.optimizer, schedule: resume.schedule, labelSmoothing: resume.labelSmoothing, maxNorm: resume.maxNorm };
  }
  return file;
}

/**
 * A file fits a model when the layer lists agree up to dropout rates (which hold no parameters): the same
 * kinds at the same indices, the same widths.
 */
function sameParameters(held: { layers: LayerSpec[]; inputs: number }, arch: Architecture): boolean {
  const shape = (l: LayerSpec) => (l.kind === 'linear' ? `linear:${l.outputs}` : l.kind);
  return held.inputs === arch.inputs && held.layers.map(shape).join() === arch.layers.map((l) => shape(l.spec)).join();
}
