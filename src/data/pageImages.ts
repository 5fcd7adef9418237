// Images in a page (ImageData, a canvas, an ImageBitmap) as model input rows: drawn to the model's size on an
// OffscreenCanvas where there is one, then converted by rgbaToRow (pixels.ts), which does the work for ImageData.
import { BadInputError } from '../errors.js';
import { datasetFromArrays, type LabelsInput } from './arrays.js';
import type { Dataset } from './dataset.js';
import { checkImageShape, rgbaToRow, type ImageShape } from './pixels.js';

/** An image a page holds: pixels read back (ImageData), a canvas, or a decoded image (ImageBitmap). */
export type PageImage = ImageData | HTMLCanvasElement | OffscreenCanvas | ImageBitmap;

const isImageData = (image: PageImage): image is ImageData => 'data' in image && image.data instanceof Uint8ClampedArray;

/** A 2D context of the model's size: an OffscreenCanvas, or a canvas element where there is none. */
function scratchContext(width: number, height: number): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })!;
  if (typeof document !== 'undefined') {
    const canvas = document.createElement('canvas');
    Object.assign(canvas, { width, height });
    return canvas.getContext('2d', { willReadFrequently: true })!;
  }
  throw new BadInputError('drawing a canvas or ImageBitmap needs OffscreenCanvas or a document; pass ImageData instead');
}

/**
 * One image as a row of u8 pixels for a model whose input is `shape`, [channels 1 or 3, height, width]. It is resized
 * to height × width, composited onto black by alpha, gray by luminance for one channel, channels-last (H×W×C),
 * ready for `model.predict(row)`. ImageData is resized by area averaging (rgbaToRow); a canvas or ImageBitmap is
 * drawn at the model's size on an OffscreenCanvas (the browser's smoothing), then read back.
 *
 * @example
 * ```ts
 * const row = imageToRow(canvas, [1, 28, 28]);
 * const probabilities = await model.predict(row);
 * ```
 */
export function imageToRow(image: PageImage, shape: ImageShape, name = 'image'): Uint8Array {
  checkImageShape(shape, name);
  if (!(image && image.width >= 1 && image.height >= 1)) {
    throw new BadInputError(`${name}: ${image ? `${image.width}×${image.height}` : String(image)} is not an image with pixels`, { value: image && [image.width, image.height] });
  }
  if (isImageData(image)) return rgbaToRow(image.data, image.width, image.height, shape, name);
  const [, height, width] = shape;
  const context = scratchContext(width, height);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(image, 0, 0, width, height);
  return rgbaToRow(context.getImageData(0, 0, width, height).data, width, height, shape, name);
}

/** What datasetFromImages labels the images with, and the model's input shape. */
export interface ImageDatasetOptions {
  /** The model's input: [channels 1 or 3, height, width]; every image is resized to it. */
  shape: ImageShape;
  /** Names the set in error messages. Default 'images'. */
  name?: string;
  /** Class index per image (with `classes`), or give `targets`. */
  labels?: LabelsInput;
  /** The class count that labels index into. */
  classes?: number;
  /** Float targets per image, one row each (the 'mse' and 'bce' losses). */
  targets?: readonly (readonly number[])[];
}

/**
 * Several page images with their labels (or targets) as a u8 data set, each image converted by imageToRow
 * (resized to `shape`, channels-last). Checked like datasetFromArrays: one label per image, each in range.
 *
 * @example
 * ```ts
 * const train = datasetFromImages([canvasA, canvasB], { shape: [1, 28, 28], labels: [3, 7], classes: 10 });
 * ```
 */
export function datasetFromImages(images: readonly PageImage[], options: ImageDatasetOptions): Dataset<Uint8Array> {
  const name = options.name ?? 'images';
  checkImageShape(options.shape, name);
  if (!Array.isArray(images)) throw new BadInputError(`${name}: images must be an array of ImageData, canvases or ImageBitmaps`);
  const [C, H, W] = options.shape;
  const inputs = new Uint8Array(images.length * C * H * W);
  images.forEach((image, i) => inputs.set(imageToRow(image, options.shape, `${name} ${i}`), i * C * H * W));
  return datasetFromArrays({
    name, inputs, shape: options.shape, layout: 'hwc', count: images.length,
    labels: options.labels, classes: options.classes, targets: options.targets,
  });
}
