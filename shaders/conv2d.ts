// Convolution as im2col products: conv2dColumns lays each output position's receptive field out as a row, so
// that the forward is the matmul nn product columns · weight (bias and a fused activation as its epilogue), the weight
// gradient the tn product columnsᵀ · dY, and the input gradient the nt product dY · weightᵀ followed by
// conv2dInputGrad, which adds each column entry back onto the pixel it came from, in a fixed order (no atomics).
// Shapes (channels-last, see image.ts; K = C·KH·KW, column k = (c·KH + i)·KW + j, as PyTorch's weight
// [O, C, KH, KW] flattens):
//   conv2dColumns:    columns[B·OH·OW × K], entry (b, oh, ow; c, i, j) = x(b, oh·S − P + i, ow·S − P + j, c),
//                     0 outside the image; x is f32 or u8 pixels (read as pixel(index)); an invocation per
//                     (b, oh, ow, c) writes its KH·KW entries
//   conv2dInputGrad:  dInput[B × H × W × C] = Σ over (i, j) with oh = (h + P − i)/S and ow = (w + P − j)/S
//                     whole and inside the output: dColumns(b, oh, ow; c, i, j); then the backward of
//                     an activation before the convolution when one is fused (elementwise.ts activationGradOf)
// Variant: workgroupSize. Shapes: any.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, wgslBindings, type Binding } from './bindings.js';
import { activationGradBindings, activationGradOf, fusedActivationFunctions, type ElementwiseOp } from './elementwise.js';
import { flatIndex } from './common.js';
import { imageConstants, pixelRead, splitIndex, type ImageGeometry } from './image.js';

export interface ConvGeometry extends ImageGeometry {
  outChannels: number;
  kernelHeight: number;
  kernelWidth: number;
  stride: number;
  padding: number;
}

/** Output height and width: ⌊(H + 2P − KH)/S⌋ + 1, as nn.Conv2d. */
export const convOutputSize = (g: Pick<ConvGeometry, 'height' | 'width' | 'kernelHeight' | 'kernelWidth' | 'stride' | 'padding'>) => ({
  outHeight: Math.floor((g.height + 2 * g.padding - g.kernelHeight) / g.stride) + 1,
  outWidth: Math.floor((g.width + 2 * g.padding - g.kernelWidth) / g.stride) + 1,
});

export const columnWidth = (g: ConvGeometry) => g.channels * g.kernelHeight * g.kernelWidth;

export const CONV2D_COLUMNS_BINDINGS: Binding[] = [input('input'), output('columns')];
export const conv2dInputGradBindings = (activation?: ElementwiseOp): Binding[] => [input('dColumns'), ...activationGradBindings(activation), output('dInput')];

const constants = (g: ConvGeometry) => {
  const { outHeight, outWidth } = convOutputSize(g);
  return `${imageConstants(g)}
const KH = ${g.kernelHeight}u;
const KW = ${g.kernelWidth}u;
const S = ${g.stride}u;
const P = ${g.padding}u;
const OH = ${outHeight}u;
const OW = ${outWidth}u;
const K = C * KH * KW;`;
};

/** conv2dColumns' invocations: one per output position and input channel, each writing its KH·KW entries. */
export const columnsInvocations = (g: ConvGeometry): number => {
  const { outHeight, outWidth } = convOutputSize(g);
  return g.batch * outHeight * outWidth * g.channels;
};

export function conv2dColumnsShader(workgroupSize: number, g: ConvGeometry, pixels?: { pixelScale: number; pixelShift: number }): string {
  const u8 = pixels !== undefined;
  return wgsl`${constants(g)}
const COUNT = B * OH * OW * C;
${wgslBindings(CONV2D_COLUMNS_BINDINGS, u8 ? { input: 'u32' } : {})}
${u8 ? pixelRead(pixels!) : ''}

@compute @workgroup_size(${workgroupSize})
fn conv2dColumns(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  ${splitIndex('index', ['b', 'oh', 'ow', 'c'], ['B', 'OH', 'OW', 'C'])}
  let row = index / C;
  let first = row * K + c * KH * KW;
  for (var i = 0u; i < KH; i++) {
    let h = i32(oh * S + i) - i32(P);
    for (var j = 0u; j < KW; j++) {
      let w = i32(ow * S + j) - i32(P);
      var value = 0.0;
      if (h >= 0 && h < i32(H) && w >= 0 && w < i32(W)) {
        let at = ((b * H + u32(h)) * W + u32(w)) * C + c;
#if ${u8}
        value = pixel(at);
#else
        value = input[at];
#endif
      }
      columns[first + i * KW + j] = value;
    }
  }
}
`;
}

export function conv2dInputGradShader(workgroupSize: number, g: ConvGeometry, activation?: ElementwiseOp): string {
  return wgsl`${constants(g)}
const COUNT = B * H * W * C;
${wgslBindings(conv2dInputGradBindings(activation))}
${fusedActivationFunctions(activation)}

@compute @workgroup_size(${workgroupSize})
fn conv2dInputGrad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = ${flatIndex(workgroupSize)};
  if (index >= COUNT) { return; }
  ${splitIndex('index', ['b', 'h', 'w', 'c'], ['B', 'H', 'W', 'C'])}
  var sum = 0.0;
  for (var i = 0u; i < KH; i++) {
    let th = i32(h + P) - i32(i);
    if (th < 0 || th % i32(S) != 0 || th / i32(S) >= i32(OH)) { continue; }
    let oh = u32(th) / S;
    for (var j = 0u; j < KW; j++) {
      let tw = i32(w + P) - i32(j);
      if (tw < 0 || tw % i32(S) != 0 || tw / i32(S) >= i32(OW)) { continue; }
      let ow = u32(tw) / S;
      sum += dColumns[((b * OH + oh) * OW + ow) * K + (c * KH + i) * KW + j];
    }
  }
  dInput[index] = ${activationGradOf(activation, 'sum', 'index')};
}
`;
}
