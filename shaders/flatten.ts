// Flatten: a channels-last image row (image.ts) into PyTorch's nn.Flatten order (c, h, w), and back.
//   flatten:          output[b][(c·H + h)·W + w] = input[b][(h·W + w)·C + c]
//   flattenBackward:  dInput[b][(h·W + w)·C + c] = dOutput[b][(c·H + h)·W + w], then the backward of an
//                     activation before the flatten when one is fused (elementwise.ts activationGradOf)
// Variant: workgroupSize. Shapes: any.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, wgslBindings, type Binding } from './bindings.js';
import { activationGradBindings, activationGradOf, fusedActivationFunctions, type ElementwiseOp } from './elementwise.js';
import { flatIndex } from './common.js';
import { imageConstants, splitIndex, type ImageGeometry } from './image.js';

export const FLATTEN_BINDINGS: Binding[] = [input('input'), output('output')];
export const flattenBackwardBindings = (activation?: ElementwiseOp): Binding[] => [input('dOutput'), ...activationGradBindings(activation), output('dInput')];

export function flattenShader(workgroupSize: number, g: ImageGeometry): string {
  return wgsl`${imageConstants(g)}
const COUNT = B * C * H * W;
${wgslBindings(FLATTEN_BINDINGS)}

@compute @workgroup_size(${workgroupSize})
fn flatten(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  ${splitIndex('index', ['b', 'c', 'hw'], ['B', 'C', 'H * W'])}
  output[index] = input[(b * H * W + hw) * C + c];
}
`;
}

export function flattenBackwardShader(workgroupSize: number, g: ImageGeometry, activation?: ElementwiseOp): string {
  return wgsl`${imageConstants(g)}
const COUNT = B * C * H * W;
${wgslBindings(flattenBackwardBindings(activation))}
${fusedActivationFunctions(activation)}

@compute @workgroup_size(${workgroupSize})
fn flattenBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  ${splitIndex('index', ['b', 'hw', 'c'], ['B', 'H * W', 'C'])}
  let value = dOutput[(b * C + c) * H * W + hw];
  dInput[index] = ${activationGradOf(activation, 'value', 'index')};
}
`;
}
