// MNIST: the four IDX files, and the split used by the reference recipe (first 55,000 training images train,
// the last 5,000 validate, the official 10,000 test), or a seeded random validation split.
import { BadInputError } from '../errors.js';
import { Random } from '../gpu/random.js';
import { imagesAndLabels, parseIdx } from './idx.js';
import { pickDataset, sliceDataset, type Dataset } from './dataset.js';

/** The four MNIST files by role, under their standard names (as LeCun's site and most mirrors serve them, uncompressed). */
export const MNIST_FILES = {
  /** The 60,000 training images, 28 × 28 u8 pixels each. */
  trainImages: 'train-images-idx3-ubyte',
  /** Their labels, the digits 0–9. */
  trainLabels: 'train-labels-idx1-ubyte',
  /** The 10,000 test images. */
  testImages: 't10k-images-idx3-ubyte',
  /** Their labels. */
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** 28 × 28 pixels, 10 digits. */
export const MNIST_FEATURES = 784;
/** The digits 0–9. */
export const MNIST_CLASSES = 10;

/** MNIST's pixel mean on the x/255 scale (the usual torchvision constant; ModelOptions.pixelMean). */
export const MNIST_MEAN = 0.1307;
/** MNIST's pixel standard deviation on the x/255 scale (the usual torchvision constant; ModelOptions.pixelStd). */
export const MNIST_STD = 0.3081;

/** The contents of the four MNIST files, by role (see MNIST_FILES). */
export type MnistBytes = Record<keyof typeof MNIST_FILES, Uint8Array>;

/** MNIST split three ways (splitMnist). */
export interface MnistSplits {
  /** The training images not held out (55,000 by default, or `limit` of them). */
  train: Dataset;
  /** Held out of the official training set: the last 5,000 by default. */
  validation: Dataset;
  /** The official 10,000 test images. */
  test: Dataset;
}

/** How splitMnist holds out validation images and limits the training set. */
export interface SplitOptions {
  /** Images held out of the official training set for validation. Default 5,000. */
  validationSize?: number;
  /** Draw the validation images at random with this seed (default: the last ones, as the reference does). */
  randomSplitSeed?: number;
  /** Train on only the first N of the remaining training images. */
  limit?: number;
}

/** The official training and test sets from the four files' bytes; `names` names the files in errors. */
export function parseMnist(bytes: MnistBytes, names: Record<keyof typeof MNIST_FILES, string> = MNIST_FILES): {
  /** The 60,000 training images, named 'train'. */
  train: Dataset;
  /** The 10,000 test images, named 'test'. */
  test: Dataset;
} {
  const load = (img: keyof MnistBytes, lab: keyof MnistBytes, name: string): Dataset => ({
    name,
    ...imagesAndLabels(parseIdx(bytes[img], names[img]), parseIdx(bytes[lab], names[lab]), names[img], names[lab]),
  });
  return { train: load('trainImages', 'trainLabels', 'train'), test: load('testImages', 'testLabels', 'test') };
}

/**
 * Holds validation images out of the official training set (the last ones, or seeded random ones) and keeps
 * the test set as it is.
 */
export function splitMnist(all: { train: Dataset; test: Dataset }, options: SplitOptions = {}): MnistSplits {
  const validationSize = options.validationSize ?? 5000;
  const total = all.train.count;
  // Said as it is: '0..-1' would leave the reader to work out that the set is empty.
  if (total === 0) throw new BadInputError(`the training set ${all.train.name} holds no images: nothing to train on or hold out`, { file: all.train.name });
  if (!(Number.isInteger(validationSize) && validationSize >= 0 && validationSize < total)) {
    throw new BadInputError(`validation size must be an integer in 0..${total - 1}, got ${validationSize}`);
  }
  let train: Dataset;
  let validation: Dataset;
  if (options.randomSplitSeed === undefined) {
    train = sliceDataset(all.train, 0, total - validationSize, 'train');
    validation = sliceDataset(all.train, total - validationSize, validationSize, 'validation');
  } else {
    const order = new Random(options.randomSplitSeed).shuffle(Uint32Array.from({ length: total }, (_, i) => i));
    validation = pickDataset(all.train, order.subarray(0, validationSize).sort(), 'validation');
    train = pickDataset(all.train, order.subarray(validationSize).sort(), 'train');
  }
  if (options.limit !== undefined) {
    if (!(Number.isInteger(options.limit) && options.limit >= 1)) throw new BadInputError(`limit must be a positive integer, got ${options.limit}`);
    train = sliceDataset(train, 0, Math.min(options.limit, train.count), 'train');
  }
  return { train, validation, test: all.test };
}
