// Training-time distortions of image inputs, as data: a random affine map (rotation, scale, shear, shift) and an
// elastic distortion (Simard, Steinkraus & Platt 2003: uniform noise in [−1, 1] per pixel and axis, smoothed by a
// Gaussian of width σ, scaled by α), composed into one bilinear resampling with zero outside the image. Every
// draw is a hash of (seed, step, row, index), so a run, its resume and the float64 twin see the same images.
//
// Written form (CLI, sweeps, checkpoints): comma-separated `name=value`, in any order, each optional:
//   rotate=DEGREES       angle uniform in [−DEGREES, DEGREES]
//   scale=F              factor uniform in [1 − F, 1 + F] (both axes), F < 1
//   shear=F              horizontal shear uniform in [−F, F]
//   shift=PIXELS         each axis uniform in [−PIXELS, PIXELS]
//   elastic=ALPHA:SIGMA  displacement α · (Gaussian_σ ∗ noise), in pixels
// e.g. `rotate=12,scale=0.12,shear=0.1,shift=2,elastic=34:4`; `none` is no augmentation.
import { BadInputError } from '../errors.js';

/** Distortions of each training image, drawn per image and step on the GPU (`fit`'s `augment`, `--augment`). */
export interface Augmentation {
  /** Degrees: the angle is uniform in [−rotate, rotate]. */
  rotate?: number;
  /** The scale factor is uniform in [1 − scale, 1 + scale]; below 1. */
  scale?: number;
  /** Horizontal shear, uniform in [−shear, shear]. */
  shear?: number;
  /** Pixels: each axis's translation is uniform in [−shift, shift]. */
  shift?: number;
  /** Elastic distortion: α (pixels) times the noise smoothed by a Gaussian of σ pixels. */
  elastic?: {
    /** α: the displacement's scale, in pixels. */
    alpha: number;
    /** σ: the Gaussian's width, in pixels, at most 16. */
    sigma: number;
  };
}

/** An image as the sampler sees it: [channels, height, width]; pixels channels-last in memory. */
export type ImageSize = readonly [number, number, number];

/** Largest σ (the Gaussian's radius round(4σ) stays ≤ 64 taps each side). */
export const MAX_ELASTIC_SIGMA = 16;
/** Largest side of an image for elastic distortion: the blur is unrolled along each side (shaders/elastic.ts). */
export const MAX_ELASTIC_SIDE = 64;

const RANGES = {
  rotate: { max: 180, unit: 'degrees' },
  scale: { max: 0.95, unit: '' },
  shear: { max: 2, unit: '' },
  shift: { max: 64, unit: 'pixels' },
} as const;
type RangeName = keyof typeof RANGES;

/** 'flag: ' before a message, or nothing for an empty flag. */
const prefix = (flag: string) => (flag ? `${flag}: ` : '');

/** A value as the message shows it: numbers as JavaScript writes them (NaN, Infinity; JSON would say null). */
const shownValue = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));

/** Whether `name` is one of the ranges: own keys only ('constructor' is not a distortion). */
const isRange = (name: string): name is RangeName => Object.hasOwn(RANGES, name);

/** `a` with every field checked (finite, in range); zero ranges dropped; undefined when nothing is left. */
export function checkAugmentation(a: Augmentation | undefined, flag = 'augment'): Augmentation | undefined {
  if (a === undefined) return undefined;
  if (typeof a !== 'object' || a === null) throw new BadInputError(`${flag} must be an object of ranges, got ${JSON.stringify(a)}`, { flag });
  const out: Augmentation = {};
  for (const key of Object.keys(a)) {
    if (!isRange(key) && key !== 'elastic') throw new BadInputError(`${prefix(flag)}unknown distortion '${key}' (known: rotate, scale, shear, shift, elastic)`, { flag, value: key });
  }
  for (const name of Object.keys(RANGES) as RangeName[]) {
    const value = a[name];
    if (value === undefined) continue;
    const { max, unit } = RANGES[name];
    if (!(typeof value === 'number' && value >= 0 && value <= max)) {
      throw new BadInputError(`${prefix(flag)}${name} must be a number in [0, ${max}]${unit ? ` ${unit}` : ''}, got ${shownValue(value)}`, { flag, value });
    }
    if (value > 0) out[name] = value;
  }
  if (a.elastic !== undefined) {
    const { alpha, sigma } = a.elastic ?? {};
    if (!(typeof alpha === 'number' && alpha >= 0 && alpha <= 1000)) throw new BadInputError(`${prefix(flag)}elastic α must be a number in [0, 1000] pixels, got ${shownValue(alpha)}`, { flag, value: alpha });
    if (!(typeof sigma === 'number' && sigma >= 0.25 && sigma <= MAX_ELASTIC_SIGMA)) {
      throw new BadInputError(`${prefix(flag)}elastic σ must be a number in [0.25, ${MAX_ELASTIC_SIGMA}] pixels, got ${shownValue(sigma)}`, { flag, value: sigma });
    }
    if (alpha > 0) out.elastic = { alpha, sigma };
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Reads the written form (see the header); `none` or '' gives undefined. */
export function parseAugmentation(text: string, flag = '--augment'): Augmentation | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return undefined;
  const a: Augmentation = {};
  for (const part of trimmed.split(',')) {
    const [name, value, ...rest] = part.split('=').map((s) => s.trim());
    if (value === undefined || rest.length > 0 || value === '') {
      throw new BadInputError(`${prefix(flag)}'${part}' is not name=value (for example rotate=12,scale=0.1,shift=2,elastic=34:4)`, { flag, value: part });
    }
    if (Object.hasOwn(a, name)) throw new BadInputError(`${prefix(flag)}${name} is given twice`, { flag, value: part });
    // A decimal as typed; what is not one is refused showing the text (NaN would print as null).
    const number = (s: string, what: string, range: string) => {
      const x = /^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) ? Number(s) : NaN;
      if (!Number.isFinite(x)) throw new BadInputError(`${prefix(flag)}${what} must be a number in ${range}, got '${s}'`, { flag, value: s });
      return x;
    };
    if (name === 'elastic') {
      const [alpha, sigma, extra] = value.split(':');
      if (sigma === undefined || extra !== undefined) throw new BadInputError(`${prefix(flag)}elastic takes ALPHA:SIGMA (elastic=34:4), got '${value}'`, { flag, value });
      a.elastic = { alpha: number(alpha, 'elastic α', '[0, 1000] pixels'), sigma: number(sigma, 'elastic σ', `[0.25, ${MAX_ELASTIC_SIGMA}] pixels`) };
    } else if (isRange(name)) {
      const { max, unit } = RANGES[name];
      a[name] = number(value, name, `[0, ${max}]${unit ? ` ${unit}` : ''}`);
    } else {
      throw new BadInputError(`${prefix(flag)}unknown distortion '${name}' (known: rotate, scale, shear, shift, elastic)`, { flag, value: name });
    }
  }
  return checkAugmentation(a, flag);
}

/** The written form: 'rotate=12,scale=0.12,elastic=34:4', or 'none'. */
export function formatAugmentation(a: Augmentation | undefined): string {
  if (!a) return 'none';
  const parts: string[] = [];
  for (const name of Object.keys(RANGES) as RangeName[]) if (a[name] !== undefined) parts.push(`${name}=${a[name]}`);
  if (a.elastic) parts.push(`elastic=${a.elastic.alpha}:${a.elastic.sigma}`);
  return parts.join(',');
}

/** Pixels an image may have: the sampler finds a pixel's (x, y) in f32, exact below 2²². */
export const MAX_AUGMENT_PIXELS = 2 ** 22;

/**
 * The image the sampler distorts for a model's input: its [C, H, W] shape, or for a flat input of u8 pixels a
 * square one-channel image (784 → 1 × 28 × 28, MNIST's digits as an MLP reads them).
 */
export function augmentedImageOf(inputShape: readonly number[], a: Augmentation): ImageSize {
  let image: ImageSize;
  if (inputShape.length === 3) image = [inputShape[0], inputShape[1], inputShape[2]];
  else {
    const side = Math.round(Math.sqrt(inputShape[0]));
    if (side * side !== inputShape[0]) {
      throw new BadInputError(`augment: the model's input is ${inputShape[0]} features, not a square image; give the model an input shape [channels, height, width]`, { value: inputShape[0] });
    }
    image = [1, side, side];
  }
  if (image[1] * image[2] >= MAX_AUGMENT_PIXELS) {
    throw new BadInputError(`augment: distortion takes images of fewer than ${MAX_AUGMENT_PIXELS.toLocaleString('en-US')} pixels (2²²), the input is ${image[1]}×${image[2]}`, { value: image });
  }
  if (a.elastic && Math.max(image[1], image[2]) > MAX_ELASTIC_SIDE) {
    throw new BadInputError(`augment: elastic distortion takes images of at most ${MAX_ELASTIC_SIDE} pixels a side, the input is ${image[1]}×${image[2]}`, { value: image });
  }
  return image;
}

/** The smoothing Gaussian's taps, k = −R … R with R = round(4σ) (SciPy's gaussian_filter), summing to 1, as f32. */
export function gaussianTaps(sigma: number): Float32Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((s, t) => s + t, 0);
  return Float32Array.from(taps, (t) => t / sum);
}

/** Index of the first elastic draw: draws 0 … 4 are the affine map's, then one pair (x, y) per pixel. */
export const ELASTIC_DRAWS_START = 8;
