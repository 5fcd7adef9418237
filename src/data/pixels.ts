// RGBA bytes (ImageData's layout: [height][width][r, g, b, a], un-premultiplied) to one row of u8 pixels of a
// model's input: resized by area averaging, composited onto black by alpha, gray by luminance for one channel,
// channels-last (H×W×C) as the engine reads images. Plain arithmetic, so it runs and is tested in Node.
import { BadInputError } from '../errors.js';

/** A model's image input: [channels, height, width], channels 1 (gray) or 3 (RGB). */
export type ImageShape = readonly [number, number, number];

/** ITU-R BT.601 luma weights, as PIL's convert('L') and the CLI's PNG reader use. */
const LUMA = [0.299, 0.587, 0.114];

/** Checks [channels, height, width] with channels 1 or 3; `what` names the input in the message. */
export function checkImageShape(shape: ImageShape, what: string): void {
  const ok = Array.isArray(shape) && shape.length === 3 && shape.every((d) => Number.isInteger(d) && d >= 1) && (shape[0] === 1 || shape[0] === 3);
  if (!ok) throw new BadInputError(`${what}: the model's image shape must be [channels 1 or 3, height, width], got ${JSON.stringify(shape)}`, { value: shape });
}

/** For each output index along one axis: the source indices it covers and the share of each (summing to 1). */
function coverage(source: number, target: number): { index: number[]; weight: number[] }[] {
  const step = source / target;
  return Array.from({ length: target }, (_, o) => {
    const [from, to] = [o * step, (o + 1) * step];
    const index: number[] = [];
    const weight: number[] = [];
    for (let s = Math.floor(from); s < Math.min(Math.ceil(to), source); s++) {
      index.push(s);
      weight.push((Math.min(to, s + 1) - Math.max(from, s)) / step);
    }
    return { index, weight };
  });
}

/**
 * One image as a model's u8 input row: `rgba` holds width × height pixels of [r, g, b, a] (ImageData.data);
 * the result is shape's height × width × channels bytes, channels-last. Each output pixel is the area-weighted
 * mean of the source pixels it covers (a box filter, which shrinks without aliasing and enlarges as blocks);
 * colors are multiplied by alpha (a transparent pixel is black); one channel is gray by BT.601 luminance.
 */
export function rgbaToRow(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, shape: ImageShape, name = 'image'): Uint8Array {
  checkImageShape(shape, name);
  if (!(Number.isInteger(width) && width >= 1 && Number.isInteger(height) && height >= 1)) {
    throw new BadInputError(`${name}: ${width}×${height} is not an image size (positive integers)`, { value: [width, height] });
  }
  if (rgba.length !== width * height * 4) {
    throw new BadInputError(`${name}: ${rgba.length} bytes for ${width}×${height} RGBA pixels (${width * height * 4})`, { value: rgba.length });
  }
  const [C, H, W] = shape;
  const columns = coverage(width, W);
  const rows = coverage(height, H);
  const out = new Uint8Array(H * W * C);
  const rgb = [0, 0, 0];
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    rgb.fill(0);
    const r = rows[y];
    const c = columns[x];
    for (let i = 0; i < r.index.length; i++) for (let j = 0; j < c.index.length; j++) {
      const at = (r.index[i] * width + c.index[j]) * 4;
      const share = (r.weight[i] * c.weight[j] * rgba[at + 3]) / 255;
      for (let k = 0; k < 3; k++) rgb[k] += share * rgba[at + k];
    }
    const o = (y * W + x) * C;
    if (C === 1) out[o] = Math.round(LUMA[0] * rgb[0] + LUMA[1] * rgb[1] + LUMA[2] * rgb[2]);
    else for (let k = 0; k < 3; k++) out[o + k] = Math.round(rgb[k]);
  }
  return out;
}
