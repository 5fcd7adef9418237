// One experiment = one training configuration on a fixed data split. A sweep is a list of them: every
// combination of the values given per axis, K of those drawn at random, or a list read from a plan file.
// Everything here is plain data, the same for the CLI (npm run sweep) and the demo's Experiments panel.
import { MNIST_CLASSES, MNIST_FEATURES } from '../data/mnist.js';
import { architecture, defaultInputShape } from '../layers/architecture.js';
import { mlpLayerSpecs, parseLayers, type LayerSpec } from '../layers/index.js';
import { OPTIMIZER_KINDS, type OptimizerKind } from '../engine/optimizer.js';
import { Random } from '../gpu/random.js';
import { formatSchedule, parseSchedule } from '../engine/schedule.js';
import { formatAugmentation, parseAugmentation } from '../augment/spec.js';
import { BadInputError } from '../errors.js';

/** One training configuration of a sweep on MNIST, as plain data (written forms for layers, schedule, augmentation). */
export interface ExperimentConfig {
  /** Hidden widths, 'x'-separated ('500x300'; '' for none), or a full layer list with `layers`. */
  hidden: string;
  /** Written layer list; when given it wins over hidden and dropout. */
  layers?: string;
  /** Dropout probability after each hidden ReLU (with `hidden`), in [0, 1); 0 for none. */
  dropout: number;
  /** The optimizer's base learning rate, > 0. */
  lr: number;
  /** Images per training step, a positive integer. */
  batchSize: number;
  /** Which optimizer, with its default hyperparameters besides lr and weightDecay. */
  optimizer: OptimizerKind;
  /** Undefined: the optimizer's default (0 for Adam and SGD, 0.01 for AdamW, as in PyTorch). */
  weightDecay?: number;
  /** Written schedule ('constant', 'cosine:warmup=1', …). */
  schedule: string;
  /** ε of the training loss's label smoothing, in [0, 1); 0 for none. */
  labelSmoothing: number;
  /** Max-norm on every linear layer's incoming weights after each update; none when absent. */
  maxNorm?: number;
  /** Written augmentation ('rotate=10,shift=2', src/augment/spec.ts); none when absent. */
  augment?: string;
  /** Epochs to train (the best validation epoch's weights are tested). */
  epochs: number;
  /** The model's seed: initialization, shuffling and dropout's masks; an integer in 0..2³²−1. */
  seed: number;
}

/** The base a sweep varies: 784-500-10, Adam at lr 1e-3, batch 128, constant schedule, 10 epochs, seed 0. */
export const DEFAULT_EXPERIMENT: ExperimentConfig = {
  hidden: '500', dropout: 0, lr: 1e-3, batchSize: 128, optimizer: 'adam', schedule: 'constant', labelSmoothing: 0, epochs: 10, seed: 0,
};

/** The config's layer list (checked), for MNIST's 784 inputs and 10 classes. */
export function experimentLayers(c: ExperimentConfig): LayerSpec[] {
  const specs = c.layers !== undefined ? parseLayers(c.layers) : mlpLayerSpecs([MNIST_FEATURES, ...parseHiddenWidths(c.hidden), MNIST_CLASSES], c.dropout);
  architecture(specs, defaultInputShape(specs));
  return specs;
}

export function parseHiddenWidths(text: string): number[] {
  if (text.trim() === '') return [];
  return text.split('x').map((w) => {
    const n = Number(w);
    if (!Number.isInteger(n) || n < 1) throw new BadInputError(`hidden widths are positive integers joined by 'x' (500x300), got '${text}'`);
    return n;
  });
}

/** Checks every field, naming the bad one; returns the config with the schedule in its written form. */
export function checkExperiment(c: ExperimentConfig): ExperimentConfig {
  const bad = (field: string, value: unknown, want: string) => new BadInputError(`experiment ${field} must be ${want}, got ${JSON.stringify(value)}`, { value });
  // Plan files are JSON: a number where a written form belongs is named, not a crash inside a parser.
  for (const field of ['hidden', 'schedule', 'optimizer', 'layers'] as const) {
    if (c[field] !== undefined && typeof c[field] !== 'string') throw bad(field, c[field], field === 'hidden' ? "a string of widths ('500x300')" : 'a string');
  }
  if (!(Number.isFinite(c.lr) && c.lr > 0)) throw bad('lr', c.lr, 'a positive number');
  if (!(Number.isInteger(c.batchSize) && c.batchSize >= 1)) throw bad('batchSize', c.batchSize, 'a positive integer');
  if (!OPTIMIZER_KINDS.includes(c.optimizer)) throw bad('optimizer', c.optimizer, OPTIMIZER_KINDS.join(' | '));
  if (c.weightDecay !== undefined && !(c.weightDecay >= 0)) throw bad('weightDecay', c.weightDecay, '≥ 0');
  if (!(c.labelSmoothing >= 0 && c.labelSmoothing < 1)) throw bad('labelSmoothing', c.labelSmoothing, 'in [0, 1)');
  if (!(c.dropout >= 0 && c.dropout < 1)) throw bad('dropout', c.dropout, 'in [0, 1)');
  if (c.maxNorm !== undefined && !(c.maxNorm > 0)) throw bad('maxNorm', c.maxNorm, 'positive');
  if (!(Number.isInteger(c.epochs) && c.epochs >= 1)) throw bad('epochs', c.epochs, 'a positive integer');
  if (!(Number.isInteger(c.seed) && c.seed >= 0 && c.seed < 2 ** 32)) throw bad('seed', c.seed, 'an integer in 0..2³²−1');
  experimentLayers(c);
  if (c.augment !== undefined && typeof c.augment !== 'string') throw bad('augment', c.augment, "a written augmentation ('rotate=10,shift=2')");
  const augment = c.augment === undefined ? undefined : parseAugmentation(c.augment, 'experiment augment');
  const { augment: _, ...rest } = c;
  return { ...rest, schedule: formatSchedule(parseSchedule(c.schedule)), ...(augment ? { augment: formatAugmentation(augment) } : {}) };
}

/** A short name for tables: '500x300 adamw lr=0.002 wd=0.0001 b128 cosine ls=0.1 d=0.2'. */
export function experimentName(c: ExperimentConfig): string {
  return [
    c.layers ?? (c.hidden || 'linear'),
    c.optimizer, `lr=${c.lr}`, ...(c.weightDecay !== undefined ? [`wd=${c.weightDecay}`] : []), `b${c.batchSize}`, c.schedule,
    ...(c.labelSmoothing ? [`ls=${c.labelSmoothing}`] : []), ...(c.layers === undefined && c.dropout ? [`d=${c.dropout}`] : []),
    ...(c.maxNorm ? [`maxnorm=${c.maxNorm}`] : []), ...(c.augment ? [`augment ${c.augment}`] : []),
  ].join(' ');
}

/** Values per axis; every combination is one experiment (the last axis varies fastest). */
export type SweepAxes = { [K in keyof ExperimentConfig]?: ExperimentConfig[K][] };

/** Every combination of the axes' values over `base` (the last axis varies fastest), each checked. */
export function sweepConfigs(base: ExperimentConfig, axes: SweepAxes): ExperimentConfig[] {
  let configs: ExperimentConfig[] = [{ ...base }];
  for (const [key, values] of Object.entries(axes) as [keyof ExperimentConfig, unknown[]][]) {
    if (!values || values.length === 0) continue;
    configs = configs.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return configs.map(checkExperiment);
}

/** K of the configs, drawn without replacement by a seeded generator, in their original order. */
export function sampleConfigs(configs: ExperimentConfig[], k: number, seed: number): ExperimentConfig[] {
  if (k >= configs.length) return configs;
  const order = new Random(seed).shuffle(Uint32Array.from(configs.keys()));
  return Array.from(order.subarray(0, k)).sort((a, b) => a - b).map((i) => configs[i]);
}

/** A plan file: a list of (partial) configs, or { configs: [...] } as a sweep's results.json holds them. */
export function planConfigs(json: unknown, base: ExperimentConfig, where: string): ExperimentConfig[] {
  const list = Array.isArray(json) ? json : (json as { configs?: unknown })?.configs;
  if (!Array.isArray(list) || list.length === 0) throw new BadInputError(`${where}: expected a non-empty list of experiments, or { "configs": [...] }`);
  return list.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null) throw new BadInputError(`${where}: experiment ${i} is not an object`);
    const known = Object.keys(DEFAULT_EXPERIMENT).concat('layers', 'weightDecay', 'maxNorm', 'augment');
    const unknown = Object.keys(entry).filter((k) => !known.includes(k));
    if (unknown.length) throw new BadInputError(`${where}: experiment ${i} has unknown field ${unknown.join(', ')} (fields: ${known.join(', ')})`);
    try {
      return checkExperiment({ ...base, ...(entry as Partial<ExperimentConfig>) });
    } catch (e) {
      throw new BadInputError(`${where}: experiment ${i}: ${(e as Error).message}`);
    }
  });
}
