// Fisher's (Anderson's) Iris data: 150 flowers, 4 measurements in cm (sepal length, sepal width, petal length,
// petal width), 3 species, 50 of each in order. Public domain; the values are those of scikit-learn's load_iris
// (which corrects rows 35 and 38 of the UCI copy to Fisher's paper). A tiny f32 data set for tabular models.
import { BadInputError } from '../errors.js';
import { pickDataset, type FloatDataset } from './dataset.js';
import { featureStandardization, standardizeFeatures } from './standardize.js';
import { Random } from '../gpu/random.js';

/** The four measurements of each flower, in row order. */
export const IRIS_FEATURES = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
/** The three species, by label: 0 setosa, 1 versicolor, 2 virginica. */
export const IRIS_CLASSES = ['setosa', 'versicolor', 'virginica'];

// 50 rows per species, in order; each row: sepal length, sepal width, petal length, petal width.
const ROWS = `
5.1 3.5 1.4 0.2|4.9 3.0 1.4 0.2|4.7 3.2 1.3 0.2|4.6 3.1 1.5 0.2|5.0 3.6 1.4 0.2|5.4 3.9 1.7 0.4|4.6 3.4 1.4 0.3|5.0 3.4 1.5 0.2|4.4 2.9 1.4 0.2|4.9 3.1 1.5 0.1
5.4 3.7 1.5 0.2|4.8 3.4 1.6 0.2|4.8 3.0 1.4 0.1|4.3 3.0 1.1 0.1|5.8 4.0 1.2 0.2|5.7 4.4 1.5 0.4|5.4 3.9 1.3 0.4|5.1 3.5 1.4 0.3|5.7 3.8 1.7 0.3|5.1 3.8 1.5 0.3
5.4 3.4 1.7 0.2|5.1 3.7 1.5 0.4|4.6 3.6 1.0 0.2|5.1 3.3 1.7 0.5|4.8 3.4 1.9 0.2|5.0 3.0 1.6 0.2|5.0 3.4 1.6 0.4|5.2 3.5 1.5 0.2|5.2 3.4 1.4 0.2|4.7 3.2 1.6 0.2
4.8 3.1 1.6 0.2|5.4 3.4 1.5 0.4|5.2 4.1 1.5 0.1|5.5 4.2 1.4 0.2|4.9 3.1 1.5 0.2|5.0 3.2 1.2 0.2|5.5 3.5 1.3 0.2|4.9 3.6 1.4 0.1|4.4 3.0 1.3 0.2|5.1 3.4 1.5 0.2
5.0 3.5 1.3 0.3|4.5 2.3 1.3 0.3|4.4 3.2 1.3 0.2|5.0 3.5 1.6 0.6|5.1 3.8 1.9 0.4|4.8 3.0 1.4 0.3|5.1 3.8 1.6 0.2|4.6 3.2 1.4 0.2|5.3 3.7 1.5 0.2|5.0 3.3 1.4 0.2
7.0 3.2 4.7 1.4|6.4 3.2 4.5 1.5|6.9 3.1 4.9 1.5|5.5 2.3 4.0 1.3|6.5 2.8 4.6 1.5|5.7 2.8 4.5 1.3|6.3 3.3 4.7 1.6|4.9 2.4 3.3 1.0|6.6 2.9 4.6 1.3|5.2 2.7 3.9 1.4
5.0 2.0 3.5 1.0|5.9 3.0 4.2 1.5|6.0 2.2 4.0 1.0|6.1 2.9 4.7 1.4|5.6 2.9 3.6 1.3|6.7 3.1 4.4 1.4|5.6 3.0 4.5 1.5|5.8 2.7 4.1 1.0|6.2 2.2 4.5 1.5|5.6 2.5 3.9 1.1
5.9 3.2 4.8 1.8|6.1 2.8 4.0 1.3|6.3 2.5 4.9 1.5|6.1 2.8 4.7 1.2|6.4 2.9 4.3 1.3|6.6 3.0 4.4 1.4|6.8 2.8 4.8 1.4|6.7 3.0 5.0 1.7|6.0 2.9 4.5 1.5|5.7 2.6 3.5 1.0
5.5 2.4 3.8 1.1|5.5 2.4 3.7 1.0|5.8 2.7 3.9 1.2|6.0 2.7 5.1 1.6|5.4 3.0 4.5 1.5|6.0 3.4 4.5 1.6|6.7 3.1 4.7 1.5|6.3 2.3 4.4 1.3|5.6 3.0 4.1 1.3|5.5 2.5 4.0 1.3
5.5 2.6 4.4 1.2|6.1 3.0 4.6 1.4|5.8 2.6 4.0 1.2|5.0 2.3 3.3 1.0|5.6 2.7 4.2 1.3|5.7 3.0 4.2 1.2|5.7 2.9 4.2 1.3|6.2 2.9 4.3 1.3|5.1 2.5 3.0 1.1|5.7 2.8 4.1 1.3
6.3 3.3 6.0 2.5|5.8 2.7 5.1 1.9|7.1 3.0 5.9 2.1|6.3 2.9 5.6 1.8|6.5 3.0 5.8 2.2|7.6 3.0 6.6 2.1|4.9 2.5 4.5 1.7|7.3 2.9 6.3 1.8|6.7 2.5 5.8 1.8|7.2 3.6 6.1 2.5
6.5 3.2 5.1 2.0|6.4 2.7 5.3 1.9|6.8 3.0 5.5 2.1|5.7 2.5 5.0 2.0|5.8 2.8 5.1 2.4|6.4 3.2 5.3 2.3|6.5 3.0 5.5 1.8|7.7 3.8 6.7 2.2|7.7 2.6 6.9 2.3|6.0 2.2 5.0 1.5
6.9 3.2 5.7 2.3|5.6 2.8 4.9 2.0|7.7 2.8 6.7 2.0|6.3 2.7 4.9 1.8|6.7 3.3 5.7 2.1|7.2 3.2 6.0 1.8|6.2 2.8 4.8 1.8|6.1 3.0 4.9 1.8|6.4 2.8 5.6 2.1|7.2 3.0 5.8 1.6
7.4 2.8 6.1 1.9|7.9 3.8 6.4 2.0|6.4 2.8 5.6 2.2|6.3 2.8 5.1 1.5|6.1 2.6 5.6 1.4|7.7 3.0 6.1 2.3|6.3 3.4 5.6 2.4|6.4 3.1 5.5 1.8|6.0 3.0 4.8 1.8|6.9 3.1 5.4 2.1
6.7 3.1 5.6 2.4|6.9 3.1 5.1 2.3|5.8 2.7 5.1 1.9|6.8 3.2 5.9 2.3|6.7 3.3 5.7 2.5|6.7 3.0 5.2 2.3|6.3 2.5 5.0 1.9|6.5 3.0 5.2 2.0|6.2 3.4 5.4 2.3|5.9 3.0 5.1 1.8
`;

/** All 150 flowers, raw measurements in cm (not standardized); labels 0 setosa, 1 versicolor, 2 virginica. */
export function irisDataset(): FloatDataset {
  const values = ROWS.trim().split(/[|\n]/).flatMap((row) => row.trim().split(' ').map(Number));
  const count = values.length / IRIS_FEATURES.length;
  const labels = Uint8Array.from({ length: count }, (_, i) => Math.floor(i / 50));
  return { name: 'iris', images: Float32Array.from(values), labels, count, features: IRIS_FEATURES.length };
}

/** How irisSplits draws its test flowers. */
export interface IrisSplitOptions {
  /** Flowers held out for testing, drawn at random. Default 30 (a fifth). */
  testCount?: number;
  /** Seeds the draw. Default 0. */
  seed?: number;
}

/**
 * A random train/test split of the 150 flowers, both standardized with the training rows' mean and std per
 * feature (so nothing of the test rows leaks into training).
 */
export function irisSplits(options: IrisSplitOptions = {}): {
  /** The other flowers (120 by default), standardized, named 'iris train'. */
  train: FloatDataset;
  /** The `testCount` held-out flowers, standardized with the training rows' mean and std, named 'iris test'. */
  test: FloatDataset;
} {
  const all = irisDataset();
  const testCount = options.testCount ?? 30;
  if (!(Number.isInteger(testCount) && testCount >= 1 && testCount < all.count)) throw new BadInputError(`testCount must be an integer in 1..${all.count - 1}, got ${testCount}`);
  const order = new Random(options.seed ?? 0).shuffle(Uint32Array.from({ length: all.count }, (_, i) => i));
  const train = pickDataset(all, order.subarray(testCount), 'iris train');
  const test = pickDataset(all, order.subarray(0, testCount), 'iris test');
  const scaling = featureStandardization(train);
  return { train: standardizeFeatures(train, scaling), test: standardizeFeatures(test, scaling) };
}
