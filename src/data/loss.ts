// The loss a model trains with, and what it makes of its outputs:
//   'cross-entropy'  softmax over classes against class labels (PyTorch's CrossEntropyLoss, with label smoothing);
//                    predict gives probabilities, metric accuracy
//   'mse'            regression against float targets (MSELoss); predict gives the values, metrics mean absolute
//                    error and R²
//   'bce'            multi-label against float targets in [0, 1] (BCEWithLogitsLoss); predict gives per-label
//                    probabilities, metric per-label accuracy (threshold 0.5)
// The GPU kernels: shaders/softmaxCrossEntropy.ts and shaders/targetLosses.ts; their float64 twins in
// src/reference/ops.ts, under the same names.
import { BadInputError } from '../errors.js';
import type { TargetLoss } from '../../shaders/targetLosses.js';

/** The loss a model trains with: 'cross-entropy' (classes, the default), 'mse' (regression) or 'bce' (multi-label). */
export type LossKind = 'cross-entropy' | 'mse' | 'bce';

/** The losses a model can train with (ModelOptions.loss), the default first. */
export const LOSSES: readonly LossKind[] = ['cross-entropy', 'mse', 'bce'];

/** The kernel (and reference op) of each loss against float targets. */
export const TARGET_LOSS_OP: Record<Exclude<LossKind, 'cross-entropy'>, TargetLoss> = { mse: 'meanSquaredError', bce: 'sigmoidCrossEntropy' };

/** A loss option checked: the default 'cross-entropy', or a BadInputError naming the choices. */
export function lossOf(value: unknown): LossKind {
  if (value === undefined) return 'cross-entropy';
  if (!LOSSES.includes(value as LossKind)) throw new BadInputError(`loss must be one of ${LOSSES.join(', ')}, got '${String(value)}'`, { value: String(value) });
  return value as LossKind;
}

/** Whether the loss trains against float targets (Dataset.targets) rather than class labels. */
export const takesTargets = (loss: LossKind): loss is 'mse' | 'bce' => loss !== 'cross-entropy';

/**
 * Σ over outputs and rows of (t − mean of its output)²: the total sum of squares that R² divides by, from the
 * targets [count × width] in float64.
 */
export function totalSumOfSquares(values: Float32Array, count: number, width: number): number {
  let total = 0;
  for (let j = 0; j < width; j++) {
    let mean = 0;
    for (let r = 0; r < count; r++) mean += values[r * width + j];
    mean /= count;
    for (let r = 0; r < count; r++) total += (values[r * width + j] - mean) ** 2;
  }
  return total;
}

/**
 * R² over all outputs (1 − Σ squared errors / Σ squared deviations from each output's mean: scikit-learn's
 * 'variance_weighted', the usual R² for one output) from the mean squared error over rows and outputs; NaN
 * when the targets do not vary.
 */
export function rSquared(meanSquaredError: number, count: number, width: number, totalSquares: number): number {
  // Targets that never vary leave R² undefined (0/0 or x/0): NaN, not ±∞ reported as a score.
  if (!(totalSquares > 0)) return NaN;
  return 1 - (meanSquaredError * count * width) / totalSquares;
}

/** A loss's figures over `count` rows: the mean loss and its task's metrics (see Evaluation). */
export interface LossMetrics {
  loss: number;
  accuracy: number;
  meanAbsoluteError?: number;
  r2?: number;
  labelAccuracy?: number;
}

/**
 * The figures from the summed per-row stats (loss, metric) of the loss kernels over `count` rows: accuracy for
 * 'cross-entropy'; mean absolute error and (given the targets' total sum of squares) R² for 'mse', whose
 * accuracy is NaN; per-label accuracy for 'bce', which is its accuracy too.
 */
export function lossMetrics(
  loss: LossKind, sums: { lossSum: number; correct: number }, count: number, r2Of?: { width: number; totalSquares: number },
): LossMetrics {
  const mean = sums.lossSum / count;
  const metric = sums.correct / count;
  if (loss === 'mse') {
    return { loss: mean, accuracy: NaN, meanAbsoluteError: metric, ...(r2Of && { r2: rSquared(mean, count, r2Of.width, r2Of.totalSquares) }) };
  }
  if (loss === 'bce') return { loss: mean, accuracy: metric, labelAccuracy: metric };
  return { loss: mean, accuracy: metric };
}
