// Per-feature standardization of f32 data sets, x' = (x − mean) / std, the job u8 models leave to pixelMean and
// pixelStd. Fit the mean and std on the training rows and apply them to every split, so nothing of the
// validation or test rows leaks into training.
import { BadInputError } from '../errors.js';
import type { FloatDataset } from './dataset.js';

/** Each feature's mean and std, fitted on training rows: x' = (x − mean) / std (standardizeFeatures). */
export interface FeatureStandardization {
  /** Per feature, [features]. */
  mean: Float64Array;
  /** Per feature, [features]; 1 where a feature is constant (it becomes 0, not NaN). */
  std: Float64Array;
}

/** Each feature's mean and (population) standard deviation over the rows of `d`. */
export function featureStandardization(d: FloatDataset): FeatureStandardization {
  const F = d.features;
  if (d.count < 1) throw new BadInputError(`${d.name}: no rows to take a mean and std from`, { file: d.name });
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  for (let i = 0; i < d.count * F; i++) mean[i % F] += d.images[i] / d.count;
  for (let i = 0; i < d.count * F; i++) std[i % F] += (d.images[i] - mean[i % F]) ** 2 / d.count;
  for (let f = 0; f < F; f++) std[f] = Math.sqrt(std[f]) || 1;
  return { mean, std };
}

/** A copy of `d` with every feature standardized by `s` (by default, d's own mean and std); labels and targets are kept. */
export function standardizeFeatures(d: FloatDataset, s: FeatureStandardization = featureStandardization(d), name = d.name): FloatDataset {
  const F = d.features;
  if (s.mean.length !== F || s.std.length !== F) throw new BadInputError(`${d.name}: ${F} features, the standardization has ${s.mean.length}`, { file: d.name });
  const images = new Float32Array(d.count * F);
  for (let i = 0; i < images.length; i++) images[i] = (d.images[i] - s.mean[i % F]) / s.std[i % F];
  const targets = d.targets && { values: d.targets.values.slice(0, d.count * d.targets.width), width: d.targets.width };
  return { name, images, labels: d.labels.slice(0, d.count), ...(targets && { targets }), count: d.count, features: F };
}
