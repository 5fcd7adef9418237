// The elementwise template: an activation is its forward expression in x and its backward expression in
// dy, x and y; this module wraps them in the one preamble (constants, bindings, index, bounds) that every
// elementwise kernel shares.
//   ${name}Forward:   output[i] = f(x = input[i])                          i < COUNT (rows × values per row)
//   ${name}Backward:  dInput[i] = g(dy = dOutput[i], x = input[i], y = output[i])   (g uses what it needs)
// Variant: workgroupSize. Shapes: any. `helpers` is WGSL the expressions call (erf for GELU).
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, wgslBindings, type Binding } from './bindings.js';
import { flatIndex } from './common.js';

export interface ElementwiseOp {
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
