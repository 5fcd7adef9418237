// Average pooling over KH × KW windows at stride S, no padding (nn.AvgPool2d's defaults: each window's mean
// over its KH·KW elements), channels-last (image.ts). A window as large as the image is global average pooling.
//   avgPool2d:          output[B × OH × OW × C] = (Σ over the window of input[B × H × W × C]) / (KH·KW)
//   avgPool2dBackward:  dInput(b, h, w, c) = Σ over the windows that hold (h, w) of dOutput(b, oh, ow, c) / (KH·KW),
//                       an invocation per input element; then the backward of an activation before the
//                       pool when one is fused (elementwise.ts activationGradOf)
// Variant: workgroupSize. Shapes: any with KH ≤ H, KW ≤ W.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, wgslBindings, type Binding } from './bindings.js';
import { activationGradBindings, activationGradOf, fusedActivationFunctions, type ElementwiseOp } from './elementwise.js';
import { flatIndex } from './common.js';
import { splitIndex } from './image.js';
import { poolConstants, type PoolGeometry } from './pooling.js';

export const AVG_POOL_BINDINGS: Binding[] = [input('input'), output('output')];
export const avgPoolBackwardBindings = (activation?: ElementwiseOp): Binding[] => [input('dOutput'), ...activationGradBindings(activation), output('dInput')];

export function avgPool2dShader(workgroupSize: number, g: PoolGeometry): string {
  return wgsl`${poolConstants(g)}
const COUNT = B * OH * OW * C;
${wgslBindings(AVG_POOL_BINDINGS)}

@compute @workgroup_size(${workgroupSize})
fn avgPool2d(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  ${splitIndex('index', ['b', 'oh', 'ow', 'c'], ['B', 'OH', 'OW', 'C'])}
  var sum = 0.0;
  for (var i = 0u; i < KH; i++) {
    for (var j = 0u; j < KW; j++) {
      sum += input[((b * H + oh * S + i) * W + ow * S + j) * C + c];
    }
  }
  output[index] = sum / f32(KH * KW);
}
`;
}

export function avgPool2dBackwardShader(workgroupSize: number, g: PoolGeometry, activation?: ElementwiseOp): string {
  return wgsl`${poolConstants(g)}
const COUNT = B * H * W * C;
${wgslBindings(avgPoolBackwardBindings(activation))}
${fusedActivationFunctions(activation)}

@compute @workgroup_size(${workgroupSize})
fn avgPool2dBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  ${splitIndex('index', ['b', 'h', 'w', 'c'], ['B', 'H', 'W', 'C'])}
  var sum = 0.0;
  for (var i = 0u; i < KH; i++) {
    if (h < i || (h - i) % S != 0u || (h - i) / S >= OH) { continue; }
    let oh = (h - i) / S;
    for (var j = 0u; j < KW; j++) {
      if (w < j || (w - j) % S != 0u || (w - j) / S >= OW) { continue; }
      sum += dOutput[((b * OH + oh) * OW + (w - j) / S) * C + c];
    }
  }
  dInput[index] = ${activationGradOf(activation, 'sum / f32(KH * KW)', 'index')};
}
`;
}
