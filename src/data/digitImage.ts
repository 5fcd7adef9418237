// Turning an arbitrary grayscale picture of a digit into MNIST's form: white digit on black, 28×28,
// the digit scaled into a 20×20 box and centred by its centre of mass (as LeCun et al. prepared MNIST).

/** A grayscale picture, any size, light or dark background. */
export interface GrayImage {
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
  /** Row-major, 0..255. */
  pixels: Uint8Array | Float32Array;
}

/**
 * A picture of one digit in MNIST's form: 28×28 u8 pixels, white on black (a mostly light picture is inverted),
 * the digit scaled into a 20×20 box and centred by its centre of mass. All zeros when the picture has no ink.
 */
export function toMnistDigit(image: GrayImage): Uint8Array {
  const { width, height, pixels } = image;
  let mean = 0;
  for (const p of pixels) mean += p;
  mean /= pixels.length;
  // MNIST digits are light on dark: invert pictures that are mostly light (ink on paper).
  const ink = (x: number, y: number) => (mean > 127 ? 255 - pixels[y * width + x] : pixels[y * width + x]);
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (ink(x, y) > 32) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  const out = new Uint8Array(28 * 28);
  if (x1 < 0) return out; // blank
  // Scale the bounding box into 20×20 (area sampling), keeping the aspect ratio.
  const box = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const scale = 20 / box;
  const w = Math.max(1, Math.round((x1 - x0 + 1) * scale));
  const h = Math.max(1, Math.round((y1 - y0 + 1) * scale));
  const small = new Float32Array(w * h);
  for (let sy = 0; sy < h; sy++)
    for (let sx = 0; sx < w; sx++) {
      const [ax, bx] = [x0 + sx / scale, x0 + (sx + 1) / scale];
      const [ay, by] = [y0 + sy / scale, y0 + (sy + 1) / scale];
      let sum = 0;
      let n = 0;
      for (let y = Math.floor(ay); y < Math.ceil(by); y++)
        for (let x = Math.floor(ax); x < Math.ceil(bx); x++) {
          if (x >= 0 && y >= 0 && x < width && y < height) { sum += ink(x, y); n++; }
        }
      small[sy * w + sx] = n ? sum / n : 0;
    }
  // Centre of mass to the middle of the 28×28 field.
  let [mass, cx, cy] = [0, 0, 0];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { const v = small[y * w + x]; mass += v; cx += v * x; cy += v * y; }
  const offX = Math.round(14 - (mass ? cx / mass : w / 2) - 0.5);
  const offY = Math.round(14 - (mass ? cy / mass : h / 2) - 0.5);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [tx, ty] = [x + offX, y + offY];
      if (tx >= 0 && ty >= 0 && tx < 28 && ty < 28) out[ty * 28 + tx] = Math.min(255, Math.round(small[y * w + x]));
    }
  return out;
}
