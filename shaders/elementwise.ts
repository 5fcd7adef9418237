// The elementwise template: an activation is its forward expression in x and its backward expression in
// dy, x and y; this module wraps them in the one preamble (constants, bindings, index, bounds) that every
// elementwise kernel shares.
//   ${name}Forward:   output[i] = f(x = input[i])                          i < COUNT (rows × values per row)
//   ${name}Backward:  dInput[i] = g(dy = dOutput[i], x = input[i], y = output[i])   (g uses what it needs)
// Variant: workgroupSize. Shapes: any. `helpers` is WGSL the expressions call (erf for GELU).
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, wgslBindings, type Binding } from './bindings.js';
import { flatIndex } from './common.js';

/** An elementwise op as WGSL: an activation's forward and backward expressions (see src/layers/activation.ts). */
export interface ElementwiseOp {
  /** Its kernels' name: 'relu' gives reluForward and reluBackward. */
  name: string;
  /** WGSL expression of x: f32. */
  forward: string;
  /** WGSL expression of dy, x, y: f32. */
  backward: string;
  /** WGSL functions the two expressions call, put before the kernels (erf for GELU). Default none. */
  helpers?: string;
}

export const ELEMENTWISE_FORWARD_BINDINGS: Binding[] = [input('input'), output('output')];
export const ELEMENTWISE_BACKWARD_BINDINGS: Binding[] = [input('dOutput'), input('input'), input('output'), output('dInput')];

export const elementwiseEntry = (op: ElementwiseOp, pass: 'forward' | 'backward') => `${op.name}${pass === 'forward' ? 'Forward' : 'Backward'}`;

export function elementwiseForwardShader(op: ElementwiseOp, workgroupSize: number, count: number): string {
  return wgsl`
const COUNT = ${count}u;
${op.helpers ?? ''}
${wgslBindings(ELEMENTWISE_FORWARD_BINDINGS)}

@compute @workgroup_size(${workgroupSize})
fn ${elementwiseEntry(op, 'forward')}(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = ${flatIndex(workgroupSize)};
  if (i >= COUNT) { return; }
  let x = input[i];
  output[i] = ${op.forward};
}
`;
}

export function elementwiseBackwardShader(op: ElementwiseOp, workgroupSize: number, count: number): string {
  return wgsl`
const COUNT = ${count}u;
${op.helpers ?? ''}
${wgslBindings(ELEMENTWISE_BACKWARD_BINDINGS)}

@compute @workgroup_size(${workgroupSize})
fn ${elementwiseEntry(op, 'backward')}(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = ${flatIndex(workgroupSize)};
  if (i >= COUNT) { return; }
  let dy = dOutput[i];
  let x = input[i];
  let y = output[i];
  dInput[i] = ${op.backward};
}
`;
}

// An op fused into another kernel (the plan's fusion pass, src/engine/fusion.ts): its forward as that kernel's
// epilogue, or its backward applied to the input gradient that kernel makes. The op's helpers and its
// expression, wrapped in a function, sit once at module scope, so its names cannot meet the kernel's locals.

/** Which of x (the op's input) and y (its output) its backward expression reads: relu, tanh, sigmoid y; gelu, leakyrelu x. */
export function backwardReads(op: ElementwiseOp): { x: boolean; y: boolean } {
  // A name on its own, not a member (v.x) nor part of a longer name.
  const reads = (name: string) => new RegExp(`(?<![.\\w])${name}(?!\\w)`).test(op.backward);
  return { x: reads('x'), y: reads('y') };
}

/** The buffers a kernel that applies `op`'s backward reads besides its own: x and/or y, each shaped as its dInput. */
export const activationGradBindings = (op: ElementwiseOp | undefined): Binding[] => {
  if (!op) return [];
  const reads = backwardReads(op);
  return [...(reads.x ? [input('activationInput')] : []), ...(reads.y ? [input('activationOutput')] : [])];
};

/** Module-scope WGSL of `op` fused: its helpers and activationForward(x) / activationBackward(dy, x, y), per f32 or per vec4f lane. */
export function fusedActivationFunctions(op: ElementwiseOp | undefined, elem: 'f32' | 'vec4f' = 'f32'): string {
  if (!op) return '';
  const lanes = (call: (lane: string) => string) => `vec4f(${['x', 'y', 'z', 'w'].map(call).join(', ')})`;
  return `${op.helpers ?? ''}
fn activationForward(x: f32) -> f32 { return ${op.forward}; }
fn activationBackward(dy: f32, x: f32, y: f32) -> f32 { return ${op.backward}; }
${elem === 'vec4f' ? `fn activationForward4(x: vec4f) -> vec4f { return ${lanes((l) => `activationForward(x.${l})`)}; }
fn activationBackward4(dy: vec4f, x: vec4f, y: vec4f) -> vec4f { return ${lanes((l) => `activationBackward(dy.${l}, x.${l}, y.${l})`)}; }` : ''}`;
}

/** The forward of a fused `op` applied to `value` (itself when there is none). */
export function activationForwardOf(op: ElementwiseOp | undefined, value: string, elem: 'f32' | 'vec4f' = 'f32'): string {
  return op ? `${elem === 'vec4f' ? 'activationForward4' : 'activationForward'}(${value})` : value;
}

/** The input gradient of a fused `op` whose output's gradient is `value`, at `index` of its x and y (value itself when there is none). */
export function activationGradOf(op: ElementwiseOp | undefined, value: string, index: string, elem: 'f32' | 'vec4f' = 'f32'): string {
  if (!op) return value;
  const reads = backwardReads(op);
  const zero = `${elem}(0.0)`;
  const x = reads.x ? `activationInput[${index}]` : zero;
  const y = reads.y ? `activationOutput[${index}]` : zero;
  return `${elem === 'vec4f' ? 'activationBackward4' : 'activationBackward'}(${value}, ${x}, ${y})`;
}
