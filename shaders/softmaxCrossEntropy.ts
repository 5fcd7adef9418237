// Fused softmax + cross-entropy over rows of logits[rows×CLASSES], one invocation per row.
//   softmaxCrossEntropy: per row, loss = logsumexp(z) − z[label]; dLogits = (softmax(z) − onehot) / rows;
//     stats[row] += (loss, correct): per-row accumulators, so a whole epoch's loss and accuracy stay on the GPU
//     with no atomics and a fixed summation order. Rows ≥ `rows` (a short last batch) get zero gradient and
//     add nothing.
//   softmax: probabilities only, for prediction.
// Variants: workgroupSize; gradient (write dLogits, or only accumulate stats, for evaluation).
// Shapes: any CLASSES ≥ 1 and any number of rows.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { flatIndex } from './common.js';

export interface SoftmaxVariant {
  workgroupSize: number;
  gradient: boolean;
}

/** Uniform block of softmaxCrossEntropy: the rows in this batch and 1/rows. */
export const SOFTMAX_UNIFORM_BYTES = 16;

export function softmaxCrossEntropyShader(v: SoftmaxVariant, capacityRows: number, classes: number): string {
  if (!(classes >= 1 && capacityRows >= 1)) throw new Error(`softmaxCrossEntropy needs rows, classes ≥ 1, got ${capacityRows}, ${classes}`);
  return wgsl`
const CLASSES = ${classes}u;
const CAPACITY = ${capacityRows}u;

struct Batch { rows: u32, invRows: f32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
#if ${v.gradient}
@group(0) @binding(2) var<storage, read_write> dLogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<vec2f>;
@group(0) @binding(4) var<uniform> batch: Batch;
#else
@group(0) @binding(2) var<storage, read_write> stats: array<vec2f>;
@group(0) @binding(3) var<uniform> batch: Batch;
#endif

@compute @workgroup_size(${v.workgroupSize})
fn softmaxCrossEntropy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = ${flatIndex(v.workgroupSize)};
  if (row >= CAPACITY) { return; }
  let base = row * CLASSES;
  let inBatch = row < batch.rows;
  let label = labels[row];
  var best = 0u;
  var zMax = logits[base];
  for (var c = 1u; c < CLASSES; c++) {
    let z = logits[base + c];
    if (z > zMax) { zMax = z; best = c; }
  }
  var sumExp = 0.0;
  for (var c = 0u; c < CLASSES; c++) { sumExp += exp(logits[base + c] - zMax); }
#if ${v.gradient}
  let scale = select(0.0, batch.invRows, inBatch);
  for (var c = 0u; c < CLASSES; c++) {
    let p = exp(logits[base + c] - zMax) / sumExp;
    dLogits[base + c] = (p - select(0.0, 1.0, c == label)) * scale;
  }
#endif
  if (inBatch) {
    let loss = log(sumExp) + zMax - logits[base + min(label, CLASSES - 1u)];
    stats[row] += vec2f(loss, select(0.0, 1.0, best == label));
  }
}
`;
}

export function softmaxShader(workgroupSize: number, capacityRows: number, classes: number): string {
  if (!(classes >= 1 && capacityRows >= 1)) throw new Error(`softmax needs rows, classes ≥ 1, got ${capacityRows}, ${classes}`);
  return wgsl`
const CLASSES = ${classes}u;
const CAPACITY = ${capacityRows}u;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> probabilities: array<f32>;

@compute @workgroup_size(${workgroupSize})
fn softmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = ${flatIndex(workgroupSize)};
  if (row >= CAPACITY) { return; }
  let base = row * CLASSES;
  var zMax = logits[base];
  for (var c = 1u; c < CLASSES; c++) { zMax = max(zMax, logits[base + c]); }
  var sumExp = 0.0;
  for (var c = 0u; c < CLASSES; c++) { sumExp += exp(logits[base + c] - zMax); }
  for (var c = 0u; c < CLASSES; c++) { probabilities[base + c] = exp(logits[base + c] - zMax) / sumExp; }
}
`;
}
