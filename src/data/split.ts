// A seeded, shuffled train/validation/test split of any data set (u8 or f32 inputs, labels or targets): the
// same seed and sizes give the same split; every row lands in exactly one part, in its original order there.
import { BadInputError } from '../errors.js';
import { Random } from '../gpu/random.js';
import { pickDataset, type Dataset, type Inputs } from './dataset.js';

/** How splitDataset sizes and draws its parts. */
export interface DatasetSplitOptions {
  /** Rows held out for validation: a fraction in [0, 1) of the set, or a count (an integer ≥ 1). Default 0. */
  validation?: number;
  /** Rows held out for testing: a fraction in [0, 1) of the set, or a count (an integer ≥ 1). Default 0. */
  test?: number;
  /** Seeds the shuffle that draws the rows. Default 0. */
  seed?: number;
}

/** The three parts of a split; an empty part has count 0. */
export interface DatasetSplits<I extends Inputs> {
  /** The rows not held out, named '<set> train'. */
  train: Dataset<I>;
  /** Named '<set> validation'. */
  validation: Dataset<I>;
  /** Named '<set> test'. */
  test: Dataset<I>;
}

/** Rows a size asks for: a fraction of `total` (rounded), or a count. */
export function splitCount(what: string, size: number | undefined, total: number, name: string): number {
  if (size === undefined || size === 0) return 0;
  if (size > 0 && size < 1) return Math.round(size * total);
  if (Number.isInteger(size) && size >= 1) return size;
  throw new BadInputError(`${name}: ${what} size must be a fraction in [0, 1) or a count (an integer ≥ 1), got ${size}`, { file: name, value: size });
}

/**
 * Splits `set` at random into train, validation and test parts, drawn by a seeded shuffle: deterministic for a
 * seed and sizes, disjoint, and together every row once. Sizes are fractions of the set (0.2) or counts (30).
 * Rows keep their input kind, labels or targets, and their original order within each part (fit shuffles the
 * training rows each epoch by itself). Throws BadInputError when the held-out rows leave none to train on.
 *
 * @example
 * ```ts
 * const { train, validation, test } = splitDataset(set, { validation: 0.1, test: 0.2, seed: 0 });
 * ```
 */
export function splitDataset<I extends Inputs>(set: Dataset<I>, options: DatasetSplitOptions = {}): DatasetSplits<I> {
  const total = set.count;
  const seed = options.seed ?? 0;
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw new BadInputError(`${set.name}: split seed must be an integer in 0..2³²−1, got ${seed}`, { file: set.name, value: seed });
  const validation = splitCount('validation', options.validation, total, set.name);
  const test = splitCount('test', options.test, total, set.name);
  if (validation + test >= total) {
    throw new BadInputError(`${set.name}: ${validation} validation + ${test} test rows leave none of its ${total} to train on`, { file: set.name, value: validation + test });
  }
  const order = new Random(seed).shuffle(Uint32Array.from({ length: total }, (_, i) => i));
  const part = (from: number, to: number, suffix: string) => pickDataset(set, order.subarray(from, to).sort(), `${set.name} ${suffix}`);
  return { test: part(0, test, 'test'), validation: part(test, test + validation, 'validation'), train: part(test + validation, total, 'train') };
}
