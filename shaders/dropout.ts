// Dropout with inverted scaling, its mask drawn from a counter-based hash of (seed, step, layer, element) —
// seed and step from the Batch uniform, so one pipeline serves every step and a checkpoint restores the seed:
// nothing is stored between forward and backward, the same step gives the same mask on any adapter and in the
// float64 reference (src/layers/dropout.ts), and a resumed run draws the masks it would have drawn.
//   dropout:          output[i] = keep(i) ? input[i] / (1 − p) : 0                     i < CAPACITY × WIDTH
//   dropoutBackward:  dInput[i] = keep(i) ? dOutput[i] / (1 − p) : 0, then the backward of an activation
//                     before the dropout when one is fused (elementwise.ts activationGradOf).
// keep(i): hash ≥ THRESHOLD = round(p · 2³²), so P(keep) = 1 − p. Variant: workgroupSize. Shapes: any.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BATCH_STRUCT } from './batchUniform.js';
import { input, output, uniform, wgslBindings, type Binding } from './bindings.js';
import { activationGradBindings, activationGradOf, fusedActivationFunctions, type ElementwiseOp } from './elementwise.js';
import { f32Literal, flatIndex, PCG_HASH } from './common.js';

export interface DropoutShape {
  capacityRows: number;
  width: number;
  p: number;
  /** The layer's index in the model (keys its masks apart from other dropout layers'). */
  layer: number;
}

export const DROPOUT_BINDINGS: Binding[] = [input('input'), output('output'), uniform('batch')];
export const dropoutBackwardBindings = (activation?: ElementwiseOp): Binding[] => [
  input('dOutput'), ...activationGradBindings(activation), output('dInput'), uniform('batch'),
];

/** The u32 that a hash must reach for an element to be kept. */
export const dropoutThreshold = (p: number) => Math.min(2 ** 32 - 1, Math.round(p * 2 ** 32));

// The key's words chained through the hash, innermost the element.
const HASH = `${PCG_HASH}
fn dropoutKeep(index: u32) -> bool {
  return pcgHash(batch.seed ^ pcgHash(batch.step ^ pcgHash(LAYER ^ pcgHash(index)))) >= THRESHOLD;
}`;

const header = (s: DropoutShape) => `
const COUNT = ${s.capacityRows * s.width}u;
const LAYER = ${s.layer}u;
const THRESHOLD = ${dropoutThreshold(s.p)}u;
const SCALE = ${f32Literal(1 / (1 - s.p))};
${BATCH_STRUCT}
${HASH}`;

function check(s: DropoutShape): void {
  if (!(s.p >= 0 && s.p < 1)) throw new Error(`dropout p must be in [0, 1), got ${s.p}`);
  if (!(s.capacityRows >= 1 && s.width >= 1)) throw new Error(`dropout needs rows, width ≥ 1, got ${s.capacityRows}, ${s.width}`);
}

export function dropoutShader(workgroupSize: number, s: DropoutShape): string {
  check(s);
  return wgsl`${header(s)}
@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> batch: Batch;

@compute @workgroup_size(${workgroupSize})
fn dropout(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = ${flatIndex(workgroupSize)};
  if (i >= COUNT) { return; }
  output[i] = select(0.0, input[i] * SCALE, dropoutKeep(i));
}
`;
}

export function dropoutBackwardShader(workgroupSize: number, s: DropoutShape, activation?: ElementwiseOp): string {
  check(s);
  return wgsl`${header(s)}
${wgslBindings(dropoutBackwardBindings(activation))}
${fusedActivationFunctions(activation)}

@compute @workgroup_size(${workgroupSize})
fn dropoutBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = ${flatIndex(workgroupSize)};
  if (i >= COUNT) { return; }
  let value = select(0.0, dOutput[i] * SCALE, dropoutKeep(i));
  dInput[i] = ${activationGradOf(activation, 'value', 'i')};
}
`;
}
