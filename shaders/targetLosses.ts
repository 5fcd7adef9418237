// The losses against float targets, each fused into one kernel over rows of logits[rows×OUTPUTS] and
// targets[rows×OUTPUTS], one invocation per row (OUTPUTS is small: regression values, yes/no labels):
//   meanSquaredError (PyTorch's MSELoss, mean over rows and outputs):
//     dLogits = 2·(z − t) / (rows·OUTPUTS); stats[row] += (Σ (z − t)² / OUTPUTS, Σ |z − t| / OUTPUTS)
//   sigmoidCrossEntropy (PyTorch's BCEWithLogitsLoss, mean over rows and outputs), in its stable form
//     loss = max(z, 0) − z·t + log(1 + e^−|z|):
//     dLogits = (σ(z) − t) / (rows·OUTPUTS); stats[row] += (Σ loss / OUTPUTS, Σ [z ≥ 0 ⇔ t ≥ 0.5] / OUTPUTS)
// So a row's stats are its loss and its metric (mean absolute error, or the share of its labels right), like
// softmaxCrossEntropy's (loss, correct): kept per row on the GPU for a whole epoch. Rows ≥ batch.rows (a short
// last batch) get zero gradient and add nothing.
// Variants: workgroupSize; gradient (write dLogits, or only accumulate stats, for evaluation).
// Shapes: any OUTPUTS ≥ 1 and any number of rows.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BATCH_STRUCT } from './batchUniform.js';
import { input, output, uniform, wgslBindings, type Binding } from './bindings.js';
import { flatIndex, reciprocalLiteral } from './common.js';
import { PORTABLE_EXP, PORTABLE_LOG } from './portableMath.js';
import type { ElementwiseOp } from './elementwise.js';

export type TargetLoss = 'meanSquaredError' | 'sigmoidCrossEntropy';

export interface TargetLossVariant {
  workgroupSize: number;
  gradient: boolean;
}

/** The bindings, in order; dLogits only with the gradient. */
export const targetLossBindings = (gradient: boolean): Binding[] => [
  input('logits'), input('targets'), ...(gradient ? [output('dLogits')] : []), output('stats'), uniform('batch'),
];

/** Per output: the loss term, the metric term, and the gradient before the 1/(rows·OUTPUTS) of the mean. */
const TERMS: Record<TargetLoss, string> = {
  meanSquaredError: `
fn lossTerms(z: f32, t: f32) -> vec3f {
  let e = z - t;
  return vec3f(e * e, abs(e), 2.0 * e);
}`,
  sigmoidCrossEntropy: `${PORTABLE_EXP}
${PORTABLE_LOG}
// σ(z) without overflow: e^−|z| ≤ 1.
fn sigmoidOf(z: f32) -> f32 {
  let e = portableExp(-abs(z));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}
fn lossTerms(z: f32, t: f32) -> vec3f {
  let loss = max(z, 0.0) - z * t + portableLog(1.0 + portableExp(-abs(z)));
  let right = select(0.0, 1.0, (z >= 0.0) == (t >= 0.5));
  return vec3f(loss, right, sigmoidOf(z) - t);
}`,
};

export function targetLossShader(loss: TargetLoss, v: TargetLossVariant, capacityRows: number, outputs: number): string {
  if (!(outputs >= 1 && capacityRows >= 1)) throw new Error(`${loss} needs rows, outputs ≥ 1, got ${capacityRows}, ${outputs}`);
  return wgsl`
const OUTPUTS = ${outputs}u;
const CAPACITY = ${capacityRows}u;
const INV_OUTPUTS = ${reciprocalLiteral(outputs)}; // 1/OUTPUTS: multiplied, the same bits on every adapter

${BATCH_STRUCT}

${wgslBindings(targetLossBindings(v.gradient), { stats: 'vec2f' })}
${TERMS[loss]}

@compute @workgroup_size(${v.workgroupSize})
fn ${loss}(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = ${flatIndex(v.workgroupSize)};
  if (row >= CAPACITY) { return; }
  let base = row * OUTPUTS;
  let inBatch = row < batch.rows;
  let scale = select(0.0, batch.invRows * INV_OUTPUTS, inBatch);
  var sums = vec2f(0.0);
  for (var j = 0u; j < OUTPUTS; j++) {
    let terms = lossTerms(logits[base + j], targets[base + j]);
    sums += terms.xy;
#if ${v.gradient}
    dLogits[base + j] = terms.z * scale;
#endif
  }
  if (inBatch) {
    stats[row] += sums * INV_OUTPUTS;
  }
}
`;
}

/** Prediction of a 'bce' model: per-label probabilities σ(z), stable for large |z| (the elementwise template). */
export const SIGMOID_PROBABILITIES: ElementwiseOp = {
  name: 'sigmoidProbabilities',
  forward: 'select(portableExp(x) / (1.0 + portableExp(x)), 1.0 / (1.0 + portableExp(-x)), x >= 0.0)',
  backward: '0.0',
  helpers: PORTABLE_EXP,
};
