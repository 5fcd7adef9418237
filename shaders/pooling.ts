// What the pooling kernels (maxPool2d, avgPool2d) share: KH × KW windows at stride S with no padding, as
// nn.MaxPool2d and nn.AvgPool2d take them by default (OH = ⌊(H − KH)/S⌋ + 1), on channels-last images
// (image.ts), and their geometry as WGSL constants.
import { imageConstants, type ImageGeometry } from './image.js';

export interface PoolGeometry extends ImageGeometry {
  kernelHeight: number;
  kernelWidth: number;
  stride: number;
}

export const poolOutputSize = (g: Pick<PoolGeometry, 'height' | 'width' | 'kernelHeight' | 'kernelWidth' | 'stride'>) => ({
  outHeight: Math.floor((g.height - g.kernelHeight) / g.stride) + 1,
  outWidth: Math.floor((g.width - g.kernelWidth) / g.stride) + 1,
});

/** WGSL: B, C, H, W, the window KH × KW, the stride S and the output OH × OW. */
export function poolConstants(g: PoolGeometry): string {
  const { outHeight, outWidth } = poolOutputSize(g);
  return `${imageConstants(g)}
const KH = ${g.kernelHeight}u;
const KW = ${g.kernelWidth}u;
const S = ${g.stride}u;
const OH = ${outHeight}u;
const OW = ${outWidth}u;`;
}

/** Whether a backward can run in the block form (windows do not overlap), and then its invocations: one per S×S block of each channel. */
export const poolBlocks = (g: PoolGeometry): number | null =>
  g.stride >= g.kernelHeight && g.stride >= g.kernelWidth ? g.batch * Math.ceil(g.height / g.stride) * Math.ceil(g.width / g.stride) * g.channels : null;
