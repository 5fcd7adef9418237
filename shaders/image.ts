// The preamble that the image kernels (conv2d, maxPool2d, flatten) share: their geometry as WGSL constants
// and the read of a u8 pixel. Images are channels-last: element (b, h, w, c) of a batch sits at
// ((b·H + h)·W + w)·C + c.
import { pixels4Read } from './portableMath.js';

export interface ImageGeometry {
  /** Rows (images) in the plan. */
  batch: number;
  channels: number;
  height: number;
  width: number;
}

export const imageConstants = (g: ImageGeometry) => `
const B = ${g.batch}u;
const C = ${g.channels}u;
const H = ${g.height}u;
const W = ${g.width}u;`;

/** WGSL: `pixel(index)` reads u8 pixels packed four to a u32 in `input`, as x/255 · scale + shift (portableMath.ts). */
export const pixelRead = (pixels: { pixelScale: number; pixelShift: number }) => `${pixels4Read(pixels)}
fn pixel(index: u32) -> f32 { return pixels4(input[index / 4u])[index % 4u]; }`;

/**
 * WGSL: `let` lines that split a flat index into coordinates, the last varying fastest: for
 * (index, [b, h, w, c], [B, H, W, C]) → c = index % C, w = (index / C) % W, h = (index / (C·W)) % H, b = … / H.
 */
export function splitIndex(index: string, names: string[], sizes: string[]): string {
  const lines: string[] = [];
  sizes = sizes.map((s) => (/\W/.test(s) ? `(${s})` : s));
  let divisor = '';
  for (let i = names.length - 1; i >= 0; i--) {
    const value = divisor ? `(${index} / (${divisor}))` : index;
    lines.push(`let ${names[i]} = ${i === 0 ? value : `${value} % ${sizes[i]}`};`);
    divisor = divisor ? `${divisor} * ${sizes[i]}` : sizes[i];
  }
  return lines.join('\n  ');
}
