// Fused softmax + cross-entropy over rows of logits[rows×CLASSES], one invocation per row.
//   softmaxCrossEntropy: per row, with ε = batch.labelSmoothing and the target q = (1 − ε)·onehot + ε/CLASSES
//     (PyTorch's CrossEntropyLoss(label_smoothing=ε)): loss = logsumexp(z) − Σ q·z = logsumexp(z) − (1 − ε)·z[label]
//     − ε·mean(z); dLogits = (softmax(z) − q) / rows;
//     stats[row] += (loss, correct): per-row accumulators, so a whole epoch's loss and accuracy stay on the GPU
//     with no atomics and a fixed summation order. Rows ≥ `rows` (a short last batch) get zero gradient and
//     add nothing.
//   softmax: probabilities only, for prediction.
// Variants: workgroupSize; gradient (write dLogits, or only accumulate stats, for evaluation); perRow:
//   'invocation' (one invocation per row, no barriers: best for few classes and on software adapters) or
//   'workgroup' (one workgroup per row, tree reductions in workgroup memory: for many classes on a GPU;
//   workgroupSize must then be a power of two).
// Shapes: any CLASSES ≥ 1 and any number of rows. Both variants take the first arg-max on ties.
import { BATCH_STRUCT } from './batchUniform.js';
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, uniform, type Binding } from './bindings.js';
import { flatIndex, reciprocalLiteral } from './common.js';
import { PORTABLE_EXP, PORTABLE_LOG } from './portableMath.js';

/** A softmax-cross-entropy kernel variant. */
export interface SoftmaxVariant {
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Also write the logits' gradient (training), not only the loss and counts. */
  gradient: boolean;
  /** Default 'invocation'. */
  perRow?: 'invocation' | 'workgroup';
}

/** The bindings, in order; dLogits only with the gradient. */
export const softmaxCrossEntropyBindings = (gradient: boolean): Binding[] => [
  input('logits'), input('labels'), ...(gradient ? [output('dLogits')] : []), output('stats'), uniform('batch'),
];

export const SOFTMAX_BINDINGS: Binding[] = [input('logits'), output('probabilities')];

/** Invocations a dispatch needs for `capacityRows` rows. */
export const softmaxInvocations = (v: SoftmaxVariant, capacityRows: number) =>
  v.perRow === 'workgroup' ? capacityRows * v.workgroupSize : capacityRows;


/** Sizes, the Batch uniform and the bindings, the same for both softmaxCrossEntropy variants. */
const lossHeader = (v: SoftmaxVariant, capacityRows: number, classes: number) => wgsl`
const CLASSES = ${classes}u;
const CAPACITY = ${capacityRows}u;
const INV_CLASSES = ${reciprocalLiteral(classes)}; // 1/CLASSES: multiplied, the same bits on every adapter

${BATCH_STRUCT}
${PORTABLE_EXP}
${PORTABLE_LOG}
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

// The smoothed target q[c] = (1 − ε)·[c = label] + ε/CLASSES, and Σ_c −q[c]·log p[c] given logsumexp(z).
// With ε = 0 both reduce exactly to the one-hot forms (1·x and 0·y are exact).
fn smoothedTarget(isLabel: bool, smoothing: f32) -> f32 {
  return select(0.0, 1.0 - smoothing, isLabel) + smoothing * INV_CLASSES;
}
fn smoothedLoss(logSumExp: f32, zLabel: f32, sumZ: f32, smoothing: f32) -> f32 {
  return logSumExp - (1.0 - smoothing) * zLabel - smoothing * (sumZ * INV_CLASSES);
}
`;

export function softmaxCrossEntropyShader(v: SoftmaxVariant, capacityRows: number, classes: number): string {
  if (!(classes >= 1 && capacityRows >= 1)) throw new Error(`softmaxCrossEntropy needs rows, classes ≥ 1, got ${capacityRows}, ${classes}`);
  if (v.perRow === 'workgroup') return softmaxCrossEntropyWorkgroupShader(v, capacityRows, classes);
  return wgsl`
${lossHeader(v, capacityRows, classes)}
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
  var sumZ = 0.0;
  for (var c = 0u; c < CLASSES; c++) {
    let z = logits[base + c];
    sumExp += portableExp(z - zMax);
    sumZ += z;
  }
  let smoothing = batch.labelSmoothing;
#if ${v.gradient}
  let scale = select(0.0, batch.invRows, inBatch);
  for (var c = 0u; c < CLASSES; c++) {
    let p = portableExp(logits[base + c] - zMax) / sumExp;
    dLogits[base + c] = (p - smoothedTarget(c == label, smoothing)) * scale;
  }
#endif
  if (inBatch) {
    stats[row] += vec2f(smoothedLoss(portableLog(sumExp) + zMax, logits[base + min(label, CLASSES - 1u)], sumZ, smoothing), select(0.0, 1.0, best == label));
  }
}
`;
}

function softmaxCrossEntropyWorkgroupShader(v: SoftmaxVariant, capacityRows: number, classes: number): string {
  const WG = v.workgroupSize;
  if (!(WG >= 2 && (WG & (WG - 1)) === 0)) throw new Error(`softmaxCrossEntropy per-workgroup rows need a power-of-two workgroupSize, got ${WG}`);
  return wgsl`
${lossHeader(v, capacityRows, classes)}
const WG = ${WG}u;

var<workgroup> partialValue: array<f32, WG>;
var<workgroup> partialIndex: array<u32, WG>;
var<workgroup> partialZ: array<f32, WG>;

@compute @workgroup_size(WG)
fn softmaxCrossEntropy(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  // No early return: every invocation must reach the barriers.
  let row = wid.x + wid.y * groups.x;
  let valid = row < CAPACITY;
  let base = min(row, CAPACITY - 1u) * CLASSES;
  let t = lid.x;

  // Arg-max: each invocation scans classes t, t+WG, …; the tree keeps the larger value, the lower index on ties.
  var zMax = bitcast<f32>(0xff7fffffu); // the lowest finite f32
  var best = CLASSES;
  for (var c = t; c < CLASSES; c += WG) {
    let z = logits[base + c];
    if (z > zMax) { zMax = z; best = c; }
  }
  partialValue[t] = zMax;
  partialIndex[t] = best;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) {
      let z = partialValue[t + s];
      let i = partialIndex[t + s];
      if (z > partialValue[t] || (z == partialValue[t] && i < partialIndex[t])) { partialValue[t] = z; partialIndex[t] = i; }
    }
    workgroupBarrier();
  }
  let rowMax = partialValue[0];
  let rowBest = partialIndex[0];
  workgroupBarrier();

  var sum = 0.0;
  var sumZ = 0.0;
  for (var c = t; c < CLASSES; c += WG) {
    let z = logits[base + c];
    sum += portableExp(z - rowMax);
    sumZ += z;
  }
  partialValue[t] = sum;
  partialZ[t] = sumZ;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) {
      partialValue[t] += partialValue[t + s];
      partialZ[t] += partialZ[t + s];
    }
    workgroupBarrier();
  }
  let sumExp = partialValue[0];
  let rowSumZ = partialZ[0];
  if (!valid) { return; }

  let inBatch = row < batch.rows;
  let label = labels[row];
  let smoothing = batch.labelSmoothing;
#if ${v.gradient}
  let scale = select(0.0, batch.invRows, inBatch);
  for (var c = t; c < CLASSES; c += WG) {
    let p = portableExp(logits[base + c] - rowMax) / sumExp;
    dLogits[base + c] = (p - smoothedTarget(c == label, smoothing)) * scale;
  }
#endif
  if (t == 0u && inBatch) {
    stats[row] += vec2f(smoothedLoss(portableLog(sumExp) + rowMax, logits[base + min(label, CLASSES - 1u)], rowSumZ, smoothing), select(0.0, 1.0, rowBest == label));
  }
}
`;
}

/** Rows from the bound length of probabilities (rows × classes), so one pipeline serves every batch size. */
export function softmaxShader(workgroupSize: number, classes: number): string {
  if (!(classes >= 1)) throw new Error(`softmax needs classes ≥ 1, got ${classes}`);
  return wgsl`
const CLASSES = ${classes}u;
${PORTABLE_EXP}
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> probabilities: array<f32>;

@compute @workgroup_size(${workgroupSize})
fn softmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = ${flatIndex(workgroupSize)};
  if (row >= arrayLength(&probabilities) / CLASSES) { return; }
  let base = row * CLASSES;
  var zMax = logits[base];
  for (var c = 1u; c < CLASSES; c++) { zMax = max(zMax, logits[base + c]); }
  var sumExp = 0.0;
  for (var c = 0u; c < CLASSES; c++) { sumExp += portableExp(logits[base + c] - zMax); }
  for (var c = 0u; c < CLASSES; c++) { probabilities[base + c] = portableExp(logits[base + c] - zMax) / sumExp; }
}
`;
}
