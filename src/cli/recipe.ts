// The training-recipe flags shared by `train` (Node) and `train:browser` (headless Chromium).
import { linearWidths, validateSizes } from '../engine/mlp.js';
import { architecture, defaultInputShape } from '../layers/architecture.js';
import { mlpLayerSpecs, parseLayers, type LayerSpec } from '../layers/index.js';
import { OPTIMIZER_KINDS, resolveOptimizer, type OptimizerConfig } from '../engine/optimizer.js';
import { choiceFlag, floatFlag, intFlag, UsageError } from './args.js';
import { MNIST_CLASSES, MNIST_FEATURES, MNIST_MEAN, MNIST_STD } from '../data/mnist.js';
import { formatSchedule, parseSchedule, type ScheduleConfig } from '../engine/schedule.js';
import type { RunRecipe } from '../engine/recipe.js';
import { formatAugmentation, parseAugmentation, type Augmentation } from '../augment/spec.js';


export const RECIPE_FLAGS = {
  epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, hidden: { type: 'string' },
  optimizer: { type: 'string' }, momentum: { type: 'string' }, 'weight-decay': { type: 'string' }, seed: { type: 'string' },
  limit: { type: 'string' }, 'validation-size': { type: 'string' }, pixels: { type: 'string' }, 'progress-every': { type: 'string' },
  schedule: { type: 'string' }, 'label-smoothing': { type: 'string' }, patience: { type: 'string' },
  layers: { type: 'string' }, dropout: { type: 'string' }, 'max-norm': { type: 'string' }, augment: { type: 'string' },
} as const;

type RecipeFlags = Partial<Record<keyof typeof RECIPE_FLAGS, string>>;

/** The run the flags describe, with the widths through its linear layers and the pixel choice by name. */
export interface Recipe extends RunRecipe {
  sizes: number[];
  pixels: 'standardized' | 'unit';
}

function scheduleFlag(raw: string): ScheduleConfig {
  try {
    return parseSchedule(raw);
  } catch (e) {
    throw new UsageError(`--schedule: ${(e as Error).message}`);
  }
}

/** --layers, or --hidden with --dropout after each hidden ReLU; checked as a model on MNIST (784 pixels, or a 1×28×28 image before a conv2d). */
function layersFlag(flags: RecipeFlags): LayerSpec[] {
  if (flags.layers !== undefined && (flags.hidden !== undefined || flags.dropout !== undefined)) {
    throw new UsageError('give either --layers or --hidden (with --dropout), not both');
  }
  const dropout = floatFlag('dropout', flags.dropout, 0, (x) => x >= 0 && x < 1);
  try {
    let layers: LayerSpec[];
    if (flags.layers !== undefined) layers = parseLayers(flags.layers);
    else {
      const sizes = [MNIST_FEATURES, ...parseHidden(flags.hidden), MNIST_CLASSES];
      validateSizes(sizes);
      layers = mlpLayerSpecs(sizes, dropout);
    }
    architecture(layers, defaultInputShape(layers));
    return layers;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--${flags.layers !== undefined ? 'layers' : 'hidden'}: ${(e as Error).message}`);
  }
}

function parseHidden(raw: string | undefined): number[] {
  if (raw === undefined) return [500];
  if (raw.trim() === '') return [];
  return raw.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--hidden takes comma-separated positive integers, got '${raw}'`);
    return n;
  });
}

function augmentFlag(raw: string | undefined): Augmentation | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseAugmentation(raw);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Defaults are the reference recipe: 784-500-10, Adam lr 1e-3, batch 128, 10 epochs, standardized pixels. */
export function parseRecipe(flags: RecipeFlags): Recipe {
  const layers = layersFlag(flags);
  if (flags.momentum !== undefined && flags.optimizer !== 'sgd') throw new UsageError(`--momentum applies to --optimizer sgd only, not ${flags.optimizer ?? 'adam'}`);
  const pixels = choiceFlag('pixels', flags.pixels, ['standardized', 'unit'] as const, 'standardized');
  const recipe: Recipe = {
    layers,
    sizes: linearWidths(architecture(layers, defaultInputShape(layers))),
    epochs: intFlag('epochs', flags.epochs, 10),
    batchSize: intFlag('batch-size', flags['batch-size'], 128),
    seed: intFlag('seed', flags.seed, 0, 0, 2 ** 32 - 1),
    optimizer: {
      kind: choiceFlag('optimizer', flags.optimizer, OPTIMIZER_KINDS, 'adam'),
      lr: floatFlag('lr', flags.lr, 1e-3),
      momentum: floatFlag('momentum', flags.momentum, 0, (x) => x >= 0 && x < 1),
      weightDecay: flags['weight-decay'] === undefined ? undefined : floatFlag('weight-decay', flags['weight-decay'], 0, (x) => x >= 0),
    },
    limit: flags.limit === undefined ? undefined : intFlag('limit', flags.limit, 0),
    validationSize: intFlag('validation-size', flags['validation-size'], 5000, 0),
    pixels,
    pixelMean: pixels === 'standardized' ? MNIST_MEAN : 0,
    pixelStd: pixels === 'standardized' ? MNIST_STD : 1,
    progressEvery: intFlag('progress-every', flags['progress-every'], 50, 0),
    schedule: flags.schedule === undefined ? undefined : scheduleFlag(flags.schedule),
    labelSmoothing: floatFlag('label-smoothing', flags['label-smoothing'], 0, (x) => x >= 0 && x < 1),
    patience: flags.patience === undefined ? undefined : intFlag('patience', flags.patience, 1),
    maxNorm: flags['max-norm'] === undefined ? undefined : floatFlag('max-norm', flags['max-norm'], 0),
    augment: augmentFlag(flags.augment),
  };
  try {
    resolveOptimizer(recipe.optimizer); // its own checks too (an lr that is 0 as an f32), before the GPU opens
  } catch (e) {
    throw new UsageError(`--lr/--optimizer: ${(e as Error).message}`);
  }
  return recipe;
}

/** The recipe's extras in words, for the run's description line. */
export function recipeExtras(r: { schedule?: ScheduleConfig; labelSmoothing?: number; patience?: number; maxNorm?: number; augment?: Augmentation }): string[] {
  return [
    r.augment ? `augment ${formatAugmentation(r.augment)}` : '',
    r.schedule && r.schedule.kind !== 'constant' ? `${formatSchedule(r.schedule)} schedule` : '',
    r.labelSmoothing ? `label smoothing ${r.labelSmoothing}` : '',
    r.maxNorm ? `max-norm ${r.maxNorm}` : '',
    r.patience !== undefined ? `early stopping (patience ${r.patience})` : '',
  ].filter(Boolean);
}
