// Optimizer updates over the flat parameter buffer, one invocation per element (or per vec4), one dispatch
// for the whole model. Semantics follow PyTorch (torch.optim.Adam / AdamW / SGD, foreach=False):
//   adamUpdate: g = grad + wd·p (Adam) | p ← p·(1 − lr·wd) (AdamW, decoupled)
//               m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//               p ← p − (lr / bc1) · m / (√v / √bc2 + ε),   bc1 = 1 − β1ᵗ, bc2 = 1 − β2ᵗ (from the host)
//   sgdUpdate:  g = grad + wd·p; with momentum μ: buf ← g on the first step, else μ·buf + (1 − dampening)·g;
//               g ← g + μ·buf (nesterov) | buf;  p ← p − lr·g
// Variants: workgroupSize; vec4 (needs the length to be a multiple of 4; the flat layout pads to that) or scalar.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, uniform, type Binding, type UniformWords } from './bindings.js';
import { flatIndex } from './common.js';

/** An optimizer-update kernel variant. */
export interface OptimizerVariant {
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Update four parameters per invocation. */
  vec4: boolean;
}

/** Uniform blocks, in bytes (multiples of 16). */
export const ADAM_UNIFORM_BYTES = 32;
export const SGD_UNIFORM_BYTES = 32;

export const ADAM_BINDINGS: Binding[] = [input('grads'), output('params'), output('moment1'), output('moment2'), uniform('adam')];
export const SGD_BINDINGS: Binding[] = [input('grads'), output('params'), output('velocity'), uniform('sgd')];

export interface AdamUniform {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** AdamW: weight decay applied to the parameter, not added to the gradient. */
  decoupled: boolean;
  /** The update's number, from 1 (PyTorch's `step`): the bias corrections 1 − β1ᵗ and √(1 − β2ᵗ) follow from it. */
  step: number;
}

export interface SgdUniform {
  lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean;
  /** The update's number, from 1: the first one starts the momentum buffer at the gradient. */
  step: number;
}

/** Packs struct Adam (below) into `w` (≥ ADAM_UNIFORM_BYTES) and returns its bytes. */
export function packAdamUniform(w: UniformWords, a: AdamUniform): ArrayBuffer {
  const f = w.f32;
  f[0] = a.lr; f[1] = a.beta1; f[2] = a.beta2; f[3] = a.eps;
  f[4] = a.weightDecay; w.u32[5] = a.decoupled ? 1 : 0;
  f[6] = 1 - a.beta1 ** a.step; f[7] = Math.sqrt(1 - a.beta2 ** a.step);
  return w.buffer;
}

/** Packs struct Sgd (below) into `w` (≥ SGD_UNIFORM_BYTES) and returns its bytes. */
export function packSgdUniform(w: UniformWords, s: SgdUniform): ArrayBuffer {
  const f = w.f32;
  f[0] = s.lr; f[1] = s.momentum; f[2] = s.dampening; f[3] = s.weightDecay;
  w.u32[4] = s.nesterov ? 1 : 0; w.u32[5] = s.step === 1 ? 1 : 0; w.u32[6] = 0; w.u32[7] = 0;
  return w.buffer;
}

export function optimizerUnsupported(v: OptimizerVariant, length: number): string | null {
  if (!(Number.isInteger(length) && length >= 1)) return `length must be a positive integer, got ${length}`;
  if (v.vec4 && length % 4) return `vec4 optimizer needs a length that is a multiple of 4, got ${length}`;
  return null;
}

export const optimizerInvocations = (v: OptimizerVariant, length: number) => (v.vec4 ? length / 4 : length);

function header(v: OptimizerVariant, length: number, op: string): { elem: string; count: number } {
  const problem = optimizerUnsupported(v, length);
  if (problem) throw new Error(`${op} cannot run over ${length} parameters: ${problem}`);
  return { elem: v.vec4 ? 'vec4f' : 'f32', count: optimizerInvocations(v, length) };
}

export function adamUpdateShader(v: OptimizerVariant, length: number): string {
  const { elem, count } = header(v, length, 'adamUpdate');
  return wgsl`
const COUNT = ${count}u;

struct Adam {
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  weightDecay: f32, decoupled: u32, biasCorrection1: f32, biasCorrection2Sqrt: f32,
}

@group(0) @binding(0) var<storage, read> grads: array<${elem}>;
@group(0) @binding(1) var<storage, read_write> params: array<${elem}>;
@group(0) @binding(2) var<storage, read_write> moment1: array<${elem}>;
@group(0) @binding(3) var<storage, read_write> moment2: array<${elem}>;
@group(0) @binding(4) var<uniform> adam: Adam;

@compute @workgroup_size(${v.workgroupSize})
fn adamUpdate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = ${flatIndex(v.workgroupSize)};
  if (i >= COUNT) { return; }
  var p = params[i];
  var g = grads[i];
  if (adam.decoupled != 0u) {
    p = p * (1.0 - adam.lr * adam.weightDecay);
  } else {
    g = g + adam.weightDecay * p;
  }
  let m = adam.beta1 * moment1[i] + (1.0 - adam.beta1) * g;
  let s = adam.beta2 * moment2[i] + (1.0 - adam.beta2) * g * g;
  moment1[i] = m;
  moment2[i] = s;
  let denom = sqrt(s) / adam.biasCorrection2Sqrt + adam.eps;
  params[i] = p - (adam.lr / adam.biasCorrection1) * m / denom;
}
`;
}

export function sgdUpdateShader(v: OptimizerVariant, length: number): string {
  const { elem, count } = header(v, length, 'sgdUpdate');
  return wgsl`
const COUNT = ${count}u;

struct Sgd {
  lr: f32, momentum: f32, dampening: f32, weightDecay: f32,
  nesterov: u32, firstStep: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<storage, read> grads: array<${elem}>;
@group(0) @binding(1) var<storage, read_write> params: array<${elem}>;
@group(0) @binding(2) var<storage, read_write> velocity: array<${elem}>;
@group(0) @binding(3) var<uniform> sgd: Sgd;

@compute @workgroup_size(${v.workgroupSize})
fn sgdUpdate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = ${flatIndex(v.workgroupSize)};
  if (i >= COUNT) { return; }
  let p = params[i];
  var g = grads[i] + sgd.weightDecay * p;
  if (sgd.momentum != 0.0) {
    var buf = g;
    if (sgd.firstStep == 0u) { buf = sgd.momentum * velocity[i] + (1.0 - sgd.dampening) * g; }
    velocity[i] = buf;
    g = select(buf, g + sgd.momentum * buf, sgd.nesterov != 0u);
  }
  params[i] = p - sgd.lr * g;
}
`;
}
