// The float64 twin of shaders/augment.ts and shaders/elastic.ts: the same draws (u32 hashes, exact in both), the
// same Gaussian taps, the same sampling; only the arithmetic is float64. The tests hold the GPU to it, and the demo's
// preview grid draws with it (augmentImageBytes: rounded to bytes, as training reads them).
import { pcgHash } from '../gpu/random.js';
import { ELASTIC_DRAWS_START, gaussianTaps, type Augmentation, type ImageSize } from './spec.js';

/** What keys the draws besides the row: the model's seed and the optimizer step the batch trains. */
export interface AugmentKey {
  seed: number;
  step: number;
}

/** The key of batch row `row`'s draws: a hash of (seed, step, row). */
const rowKeyOf = (key: AugmentKey, row: number) => pcgHash(key.seed ^ pcgHash(key.step ^ pcgHash(row)));

/** Draw `index` of batch row `row`: pcgHash(rowKey + index); uniform in [−1, 1) on a grid of 2⁻²³, exact in f32. */
export function augmentDraw(key: AugmentKey, row: number, index: number): number {
  return (pcgHash((rowKeyOf(key, row) + index) >>> 0) >>> 8) * 2 ** -23 - 1;
}

/** Elastic noise of pixel `pixel`: two draws from one hash, its low and high 16 bits, each uniform on the 2¹⁶ centres of a grid of 2⁻¹⁵ over [−1, 1). */
export function elasticNoise(key: AugmentKey, row: number, pixel: number): [number, number] {
  const h = pcgHash((rowKeyOf(key, row) + ELASTIC_DRAWS_START + pixel) >>> 0);
  return [((h & 0xffff) + 0.5) * 2 ** -15 - 1, ((h >>> 16) + 0.5) * 2 ** -15 - 1];
}

/** The sampling map's per-row constants. */
function affineOf(a: Augmentation, key: AugmentKey, row: number) {
  const angle = ((a.rotate ?? 0) * Math.PI / 180) * augmentDraw(key, row, 0);
  return {
    cos: a.rotate ? Math.cos(angle) : 1,
    sin: a.rotate ? Math.sin(angle) : 0,
    invScale: a.scale ? 1 / (1 + a.scale * augmentDraw(key, row, 1)) : 1,
    shear: a.shear ? a.shear * augmentDraw(key, row, 2) : 0,
    tx: a.shift ? a.shift * augmentDraw(key, row, 3) : 0,
    ty: a.shift ? a.shift * augmentDraw(key, row, 4) : 0,
  };
}

/**
 * α · (G ∗ noise) for one row: [H × W] displacements (x, y), the Gaussian applied along rows, then columns (the GPU
 * blurs columns first where it reads quads; the blur is linear and separable, so only rounding differs).
 */
export function elasticField(a: Augmentation, key: AugmentKey, row: number, height: number, width: number): { dx: Float64Array; dy: Float64Array } {
  const n = height * width;
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  if (!a.elastic) return { dx, dy };
  const taps = gaussianTaps(a.elastic.sigma);
  const R = (taps.length - 1) / 2;
  // One pass of the separable Gaussian: along x (stride 1, over `size` = W) or along y (stride W, size H).
  const along = (src: Float64Array[], dst: Float64Array[], stride: number, size: number) => {
    for (let i = 0; i < n; i++) {
      const pos = stride === 1 ? i % width : Math.floor(i / width);
      const [lo, hi] = [Math.max(R - pos, 0), Math.min(taps.length, size + R - pos)];
      for (let axis = 0; axis < 2; axis++) {
        let s = 0;
        for (let k = lo; k < hi; k++) s += taps[k] * src[axis][i + (k - R) * stride];
        dst[axis][i] = s;
      }
    }
  };
  const noise = [new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) {
    [noise[0][i], noise[1][i]] = elasticNoise(key, row, i);
  }
  const blurredRows = [new Float64Array(n), new Float64Array(n)];
  along(noise, blurredRows, 1, width);
  along(blurredRows, [dx, dy], width, height);
  for (let i = 0; i < n; i++) {
    dx[i] *= a.elastic.alpha;
    dy[i] *= a.elastic.alpha;
  }
  return { dx, dy };
}

/**
 * augmentImages: out[rows × F] (F = C·H·W, channels-last) = the distorted batch, read as x/255 · pixelScale +
 * pixelShift, from u8 `pixels` [rows × F]. Output pixel p = (x, y) samples the source at
 *   s = M · (p − c + d(p)) + c + t,   M = R(θ) · [[1, shear], [0, 1]] / scale,   c = ((W − 1)/2, (H − 1)/2)
 * bilinearly, zero outside the image.
 */
export function augmentImages(
  out: Float64Array, pixels: Uint8Array, rows: number, image: ImageSize, a: Augmentation, key: AugmentKey,
  pixelScale = 1, pixelShift = 0,
): void {
  const [C, H, W] = image;
  const F = C * H * W;
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  for (let row = 0; row < rows; row++) {
    const m = affineOf(a, key, row);
    const { dx, dy } = elasticField(a, key, row, H, W);
    const at = (c: number, x: number, y: number) => (x < 0 || y < 0 || x >= W || y >= H ? 0 : pixels[row * F + (y * W + x) * C + c] / 255);
    for (let i = 0; i < H * W; i++) {
      let qx = (i % W) - cx + dx[i];
      let qy = Math.floor(i / W) - cy + dy[i];
      qx += m.shear * qy;
      [qx, qy] = [m.cos * qx - m.sin * qy, m.sin * qx + m.cos * qy];
      const sx = Math.min(Math.max(qx * m.invScale + cx + m.tx, -2), W + 1);
      const sy = Math.min(Math.max(qy * m.invScale + cy + m.ty, -2), H + 1);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < C; c++) {
        const v = (1 - fx) * (1 - fy) * at(c, x0, y0) + fx * (1 - fy) * at(c, x0 + 1, y0)
          + (1 - fx) * fy * at(c, x0, y0 + 1) + fx * fy * at(c, x0 + 1, y0 + 1);
        out[row * F + i * C + c] = v * pixelScale + pixelShift;
      }
    }
  }
}

/** augmentImages rounded to bytes as the GPU's u8 form rounds (pack4x8unorm): floor(0.5 + 255 · clamp(v, 0, 1)). */
export function augmentImageBytes(out: Uint8Array, pixels: Uint8Array, rows: number, image: ImageSize, a: Augmentation, key: AugmentKey): void {
  const values = new Float64Array(out.length);
  augmentImages(values, pixels, rows, image, a, key);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(0.5 + 255 * Math.min(Math.max(values[i], 0), 1));
}
