// Max pooling over KH × KW windows at stride S, no padding (nn.MaxPool2d's defaults; OH = ⌊(H − KH)/S⌋ + 1),
// channels-last (image.ts). The window's maximum is its first largest value in row-major order (strict >),
// and its backward sends each dY to that element only, so equal values break ties the same way on every
// adapter and in the float64 twin. The backward recomputes the argmax rather than storing it.
//   maxPool2d:          output[B × OH × OW × C] = max over the window of input[B × H × W × C]
//   maxPool2dBackward:  dInput(b, h, w, c) = Σ over windows whose argmax is (h, w) of dOutput(b, oh, ow, c),
//                       in a fixed order; then the backward of an activation before the pool when one is
//                       fused (elementwise.ts activationGradOf)
//                       Windows that do not overlap (S ≥ KH, KW) take the block form: an invocation per S×S
//                       block of the input, which finds its window's argmax once and writes the whole block;
//                       overlapping ones an invocation per input element, which finds each covering
//                       window's argmax.
// Variant: workgroupSize. Shapes: any with KH ≤ H, KW ≤ W.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, wgslBindings, type Binding } from './bindings.js';
import { activationGradBindings, activationGradOf, fusedActivationFunctions, type ElementwiseOp } from './elementwise.js';
import { flatIndex } from './common.js';
import { splitIndex } from './image.js';
import { poolBlocks, poolConstants, type PoolGeometry } from './pooling.js';

export { poolBlocks, poolOutputSize, type PoolGeometry } from './pooling.js';

export const MAX_POOL_BINDINGS: Binding[] = [input('input'), output('output')];
export const maxPoolBackwardBindings = (activation?: ElementwiseOp): Binding[] => [input('dOutput'), input('input'), ...activationGradBindings(activation), output('dInput')];

const preamble = (g: PoolGeometry) => `${poolConstants(g)}

// The window (oh, ow) of channel c in image b: its first largest element's (i, j), packed as i · KW + j.
fn argmaxOf(b: u32, oh: u32, ow: u32, c: u32) -> u32 {
  var best = input[((b * H + oh * S) * W + ow * S) * C + c];
  var at = 0u;
  for (var i = 0u; i < KH; i++) {
    for (var j = 0u; j < KW; j++) {
      let v = input[((b * H + oh * S + i) * W + ow * S + j) * C + c];
      if (v > best) { best = v; at = i * KW + j; }
    }
  }
  return at;
}`;

export function maxPool2dShader(workgroupSize: number, g: PoolGeometry): string {
  return wgsl`${preamble(g)}
const COUNT = B * OH * OW * C;
${wgslBindings(MAX_POOL_BINDINGS)}

@compute @workgroup_size(${workgroupSize})
fn maxPool2d(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  ${splitIndex('index', ['b', 'oh', 'ow', 'c'], ['B', 'OH', 'OW', 'C'])}
  let at = argmaxOf(b, oh, ow, c);
  output[index] = input[((b * H + oh * S + at / KW) * W + ow * S + at % KW) * C + c];
}
`;
}

export function maxPool2dBackwardShader(workgroupSize: number, g: PoolGeometry, activation?: ElementwiseOp): string {
  if (poolBlocks(g) !== null) return maxPool2dBackwardBlockShader(workgroupSize, g, activation);
  return wgsl`${preamble(g)}
const COUNT = B * H * W * C;
${wgslBindings(maxPoolBackwardBindings(activation))}
${fusedActivationFunctions(activation)}

@compute @workgroup_size(${workgroupSize})
fn maxPool2dBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  ${splitIndex('index', ['b', 'h', 'w', 'c'], ['B', 'H', 'W', 'C'])}
  var sum = 0.0;
  for (var i = 0u; i < KH; i++) {
    if (h < i || (h - i) % S != 0u || (h - i) / S >= OH) { continue; }
    let oh = (h - i) / S;
    for (var j = 0u; j < KW; j++) {
      if (w < j || (w - j) % S != 0u || (w - j) / S >= OW) { continue; }
      let ow = (w - j) / S;
      if (argmaxOf(b, oh, ow, c) == i * KW + j) { sum += dOutput[((b * OH + oh) * OW + ow) * C + c]; }
    }
  }
  dInput[index] = ${activationGradOf(activation, 'sum', 'index')};
}
`;
}

function maxPool2dBackwardBlockShader(workgroupSize: number, g: PoolGeometry, activation?: ElementwiseOp): string {
  return wgsl`${preamble(g)}
const BH = ${Math.ceil(g.height / g.stride)}u;
const BW = ${Math.ceil(g.width / g.stride)}u;
const COUNT = B * BH * BW * C;
${wgslBindings(maxPoolBackwardBindings(activation))}
${fusedActivationFunctions(activation)}

@compute @workgroup_size(${workgroupSize})
fn maxPool2dBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  ${splitIndex('index', ['b', 'bh', 'bw', 'c'], ['B', 'BH', 'BW', 'C'])}
  // The block's window, when it has one (the last blocks of a row or column may hold only leftover pixels).
  let pooled = bh < OH && bw < OW;
  var at = KH * KW;
  var gradient = 0.0;
  if (pooled) {
    at = argmaxOf(b, bh, bw, c);
    gradient = dOutput[((b * OH + bh) * OW + bw) * C + c];
  }
  for (var i = 0u; i < S; i++) {
    let h = bh * S + i;
    if (h >= H) { break; }
    for (var j = 0u; j < S; j++) {
      let w = bw * S + j;
      if (w >= W) { break; }
      let k = ((b * H + h) * W + w) * C + c;
      let value = select(0.0, gradient, i < KH && j < KW && at == i * KW + j);
      dInput[k] = ${activationGradOf(activation, 'value', 'k')};
    }
  }
}
`;
}
