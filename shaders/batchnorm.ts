// Batch normalization over the rows of a batch, per channel, as PyTorch's BatchNorm1d (features: C = width,
// P = 1) and BatchNorm2d (channels-last images: C channels, P = H·W positions per row). The rows that count
// are the batch's real ones (Batch.rows ≤ capacity), so a short last batch is normalized by its own rows.
// x and y are [capacity × P × C]; M = rows · P values per channel.
//   batchnormStats:     one workgroup per channel: mean and biased variance of x over the M values (two passes,
//                       each lane summing a fixed stride, then a tree in workgroup memory: a fixed order), into
//                       stats[c] = (mean, 1/√(var + ε)); and running_mean ← (1 − m)·running_mean + m·mean,
//                       running_var ← (1 − m)·running_var + m·var·M/(M − 1) (unbiased, as PyTorch does)
//   batchnormForward:   y = (x − mean)·invStd·weight + bias, from stats (TRAINING) or from the running
//                       estimates; then an activation's forward when one is fused after it (elementwise.ts)
//   batchnormBackward:  one workgroup per channel: dBias = Σ dY, dWeight = Σ dY·x̂ over the M values (fixed
//                       order), then dX = weight·invStd/M · (M·dY − dBias − x̂·dWeight) for the real rows and 0
//                       for the rest, x̂ = (x − mean)·invStd
// Variant: workgroupSize (a power of two, for the tree). Shapes: any.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BATCH_STRUCT } from './batchUniform.js';
import { input, output, uniform, wgslBindings, type Binding } from './bindings.js';
import { f32Literal, flatIndex } from './common.js';
import { activationForwardOf, fusedActivationFunctions, type ElementwiseOp } from './elementwise.js';

export interface BatchnormShape {
  capacityRows: number;
  channels: number;
  /** Positions per row: 1 for features, H·W for images. */
  positions: number;
  momentum: number;
  eps: number;
}

export const BATCHNORM_WORKGROUP = 64;

export const BATCHNORM_STATS_BINDINGS: Binding[] = [input('input'), output('stats'), output('runningMean'), output('runningVar'), uniform('batch')];
export const batchnormForwardBindings = (training: boolean): Binding[] =>
  training ? [input('input'), input('weight'), input('bias'), input('stats'), output('output')]
    : [input('input'), input('weight'), input('bias'), input('runningMean'), input('runningVar'), output('output')];
export const BATCHNORM_BACKWARD_BINDINGS: Binding[] = [
  input('dOutput'), input('input'), input('weight'), input('stats'), output('dInput'), output('dWeight'), output('dBias'), uniform('batch'),
];

const header = (s: BatchnormShape) => `
const CAPACITY = ${s.capacityRows}u;
const C = ${s.channels}u;
const P = ${s.positions}u;
const MOMENTUM = ${f32Literal(s.momentum)};
const EPS = ${f32Literal(s.eps)};
const LANES = ${BATCHNORM_WORKGROUP}u;
${BATCH_STRUCT}`;

/** WGSL: adds `partial` of every lane of the workgroup in a fixed tree order; lane 0's result is the sum. */
const treeSum = `
var<workgroup> partial: array<f32, ${BATCHNORM_WORKGROUP}>;
fn workgroupSum(lane: u32, value: f32) -> f32 {
  partial[lane] = value;
  workgroupBarrier();
  for (var half = LANES / 2u; half > 0u; half /= 2u) {
    if (lane < half) { partial[lane] += partial[lane + half]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}`;

export function batchnormStatsShader(s: BatchnormShape): string {
  return wgsl`${header(s)}
${wgslBindings(BATCHNORM_STATS_BINDINGS, { stats: 'vec2f' })}
${treeSum}

@compute @workgroup_size(${BATCHNORM_WORKGROUP})
fn batchnormStats(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let c = group.x;
  let count = batch.rows * P;
  var sum = 0.0;
  for (var m = lane; m < count; m += LANES) { sum += input[m * C + c]; }
  let mean = workgroupSum(lane, sum) / f32(count);
  var squares = 0.0;
  for (var m = lane; m < count; m += LANES) {
    let d = input[m * C + c] - mean;
    squares += d * d;
  }
  let variance = workgroupSum(lane, squares) / f32(count);
  if (lane == 0u) {
    stats[c] = vec2f(mean, inverseSqrt(variance + EPS));
    let unbiased = select(variance, variance * f32(count) / f32(count - 1u), count > 1u);
    runningMean[c] = (1.0 - MOMENTUM) * runningMean[c] + MOMENTUM * mean;
    runningVar[c] = (1.0 - MOMENTUM) * runningVar[c] + MOMENTUM * unbiased;
  }
}
`;
}

export function batchnormForwardShader(workgroupSize: number, s: BatchnormShape, training: boolean, activation?: ElementwiseOp): string {
  return wgsl`${header(s)}
const COUNT = CAPACITY * P * C;
${wgslBindings(batchnormForwardBindings(training), { stats: 'vec2f' })}
${fusedActivationFunctions(activation)}

@compute @workgroup_size(${workgroupSize})
fn batchnormForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  let c = index % C;
#if ${training}
  let s = stats[c];
#else
  let s = vec2f(runningMean[c], inverseSqrt(runningVar[c] + EPS));
#endif
  let y = (input[index] - s.x) * s.y * weight[c] + bias[c];
  output[index] = ${activationForwardOf(activation, 'y')};
}
`;
}

export function batchnormBackwardShader(s: BatchnormShape): string {
  return wgsl`${header(s)}
${wgslBindings(BATCHNORM_BACKWARD_BINDINGS, { stats: 'vec2f' })}
${treeSum}

@compute @workgroup_size(${BATCHNORM_WORKGROUP})
fn batchnormBackward(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let c = group.x;
  let count = batch.rows * P;
  let s = stats[c];
  var sumDy = 0.0;
  var sumDyXhat = 0.0;
  for (var m = lane; m < count; m += LANES) {
    let dy = dOutput[m * C + c];
    sumDy += dy;
    sumDyXhat += dy * (input[m * C + c] - s.x) * s.y;
  }
  let db = workgroupSum(lane, sumDy);
  let dw = workgroupSum(lane, sumDyXhat);
  if (lane == 0u) {
    dBias[c] = db;
    dWeight[c] = dw;
  }
  let scale = weight[c] * s.y / f32(count);
  for (var m = lane; m < CAPACITY * P; m += LANES) {
    let k = m * C + c;
    let xhat = (input[k] - s.x) * s.y;
    dInput[k] = select(0.0, scale * (f32(count) * dOutput[k] - db - xhat * dw), m < count);
  }
}
`;
}
