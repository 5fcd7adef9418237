// The training controls: reads the inputs into a run (the engine's RunRecipe), or says which ones are wrong and why.
import { MNIST_CLASSES, MNIST_FEATURES, MNIST_MEAN, MNIST_STD } from '../../src/data/mnist.js';
import type { RunRecipe } from '../../src/engine/recipe.js';
import { mlpLayerSpecs, parseLayers, type LayerSpec } from '../../src/layers/index.js';
import { byId } from './dom.js';
import { parseAugmentation, type Augmentation } from '../../src/augment/spec.js';

export const MAX_TRAIN_SIZE = 55_000;
/** The worker splits MNIST once, the reference way: the last 5,000 training images validate. */
const VALIDATION_SIZE = 5000;
/**
 * Every progress point is one small GPU readback (the epoch's loss and accuracy so far). Every 10 steps gives the
 * loss chart ~8 points per epoch on the default 10,000 images (79 steps), and the readback costs far less than
 * the 10 steps it follows, even on a fast GPU.
 */
const PROGRESS_EVERY = 10;

/** Limits that keep a run sensible in a browser tab (the engine itself accepts more). */
const LIMITS = { hiddenUnits: 4096, hiddenLayers: 4, batchSize: 4096, epochs: 100, maxLr: 10, maxSeed: 2 ** 32 - 1 };

const FIELDS = ['network', 'hidden', 'optimizer', 'lr', 'batch-size', 'epochs', 'train-size', 'seed', 'augment-on', 'augment'] as const;
type Field = (typeof FIELDS)[number];

export type FormResult = { ok: true; config: RunRecipe } | { ok: false; problems: { field: Field; message: string }[] };

const value = (id: Field) => byId<HTMLInputElement | HTMLSelectElement>(id).value.trim();

/** A whole number in [min, max], or undefined. `Number('')` is 0, so empty strings are refused first. */
function wholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

/** The CNN preset: the CLI's documented CNN recipe (README, "Convolutional networks"). */
export const CNN_PRESET = 'conv2d:8:k=5,relu,maxpool2d:2,conv2d:16:k=5,relu,maxpool2d:2,flatten,linear:128,relu,dropout:0.25,linear:10';

/** The network the form describes: the CNN preset, or the MLP of its hidden widths; undefined while those are not valid. */
export function readLayers(): LayerSpec[] | undefined {
  if (value('network') === 'cnn') return parseLayers(CNN_PRESET);
  const hidden = readHiddenSizes();
  return hidden && mlpLayerSpecs([MNIST_FEATURES, ...hidden, MNIST_CLASSES]);
}

/** The hidden layer widths typed in the form ("256,128" → [256, 128]), or undefined while they are not valid. */
export function readHiddenSizes(): number[] | undefined {
  const sizes = value('hidden').split(',').map((s) => wholeNumber(s.trim(), 1, LIMITS.hiddenUnits));
  return sizes.length <= LIMITS.hiddenLayers && sizes.every((n) => n !== undefined) ? (sizes as number[]) : undefined;
}

/** The distortions the form asks for: none while the toggle is off, else the written ranges (or why they are wrong). */
export function readAugmentation(): { ok: true; augment: Augmentation | undefined } | { ok: false; message: string } {
  if (!byId<HTMLInputElement>('augment-on').checked) return { ok: true, augment: undefined };
  try {
    return { ok: true, augment: parseAugmentation(value('augment'), 'ranges') };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

export function readForm(maxTrainSize = MAX_TRAIN_SIZE): FormResult {
  const problems: { field: Field; message: string }[] = [];
  const need = <T>(field: Field, parsed: T | undefined, message: string): T => {
    if (parsed === undefined) problems.push({ field, message });
    return parsed as T;
  };

  const cnn = value('network') === 'cnn';
  const hidden = cnn ? [] : need(
    'hidden',
    readHiddenSizes(),
    `Hidden sizes: 1 to ${LIMITS.hiddenLayers} whole numbers between 1 and ${LIMITS.hiddenUnits}, separated by commas (e.g. "500" or "256,128").`,
  );

  const optimizerText = value('optimizer');
  const optimizer = need(
    'optimizer',
    optimizerText === 'adam' || optimizerText === 'adamw' || optimizerText === 'sgd' ? optimizerText : undefined,
    'Optimizer: choose adam, adamw or sgd.',
  );

  const lrText = value('lr');
  const lrNumber = lrText === '' ? NaN : Number(lrText);
  const lr = need(
    'lr',
    Number.isFinite(lrNumber) && lrNumber > 0 && lrNumber <= LIMITS.maxLr ? lrNumber : undefined,
    `Learning rate: a number above 0 and at most ${LIMITS.maxLr} (e.g. 0.001 for Adam, 0.1 for SGD).`,
  );

  const batchSize = need('batch-size', wholeNumber(value('batch-size'), 1, LIMITS.batchSize), `Batch size: a whole number from 1 to ${LIMITS.batchSize}.`);
  const epochs = need('epochs', wholeNumber(value('epochs'), 1, LIMITS.epochs), `Epochs: a whole number from 1 to ${LIMITS.epochs}.`);
  const trainSize = need(
    'train-size',
    wholeNumber(value('train-size'), 1, maxTrainSize),
    `Training images: a whole number from 1 to ${maxTrainSize.toLocaleString('en-US')}.`,
  );
  const seed = need('seed', wholeNumber(value('seed'), 0, LIMITS.maxSeed), 'Seed: a whole number, 0 or more.');
  const augmented = readAugmentation();
  const augment = augmented.ok ? augmented.augment : need('augment', undefined, `Distortions: ${augmented.message}`);

  for (const field of FIELDS) {
    const input = byId(field);
    if (problems.some((p) => p.field === field)) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    config: {
      layers: cnn ? parseLayers(CNN_PRESET) : mlpLayerSpecs([MNIST_FEATURES, ...hidden, MNIST_CLASSES]), optimizer: { kind: optimizer, lr }, batchSize, epochs, seed,
      limit: trainSize, validationSize: VALIDATION_SIZE, pixelMean: MNIST_MEAN, pixelStd: MNIST_STD, progressEvery: PROGRESS_EVERY,
      ...(augment ? { augment } : {}),
    },
  };
}

/** Calls back when a field is committed (blur, Enter, select), so mistakes show before Train without
 *  flagging half-typed values such as "0." on every keystroke. */
export function onFormChange(callback: () => void): void {
  for (const field of FIELDS) byId(field).addEventListener('change', callback);
}

export function setFormDisabled(disabled: boolean): void {
  for (const field of FIELDS) (byId(field) as HTMLInputElement).disabled = disabled;
}
