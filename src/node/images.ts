// Images for prediction from files: PNG (any size, color or gray; preprocessed like MNIST) or IDX
// (u8 images [n × 28 × 28], used as they are).
import { BadInputError } from '../errors.js';
import type { PNG } from 'pngjs';
import { parseIdx } from '../data/idx.js';
import { toMnistDigit } from '../data/digitImage.js';
import { readFileChecked } from './files.js';
import { loadPngjs } from './peers.js';

/** Limits on a picture to predict: a photo or a scan is far smaller; a decoded 20000² PNG would be 1.6 GB. */
export const MAX_IMAGE_SIDE = 4096;
const MAX_IMAGE_FILE_BYTES = 64 << 20;

/** Reads width and height from the PNG header (IHDR) before decoding anything. */
function checkPngSize(bytes: Uint8Array, path: string): void {
  if (bytes.length < 24) return; // too short: the decoder names the problem
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [width, height] = [view.getUint32(16, false), view.getUint32(20, false)];
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new BadInputError(`${path}: ${width}×${height} pixels is over the ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE} limit for a digit to predict`, { file: path });
  }
}

export function loadImagesForPrediction(path: string, features = 784): { images: Uint8Array; count: number } {
  const bytes = readFileChecked(path, MAX_IMAGE_FILE_BYTES);
  if (/\.png$/i.test(path)) {
    checkPngSize(bytes, path);
    let png: PNG;
    try {
      png = loadPngjs('reading PNG images').PNG.sync.read(Buffer.from(bytes));
    } catch (e) {
      throw new BadInputError(`${path}: not a readable PNG (${(e as Error).message})`, { file: path });
    }
    const gray = new Float32Array(png.width * png.height);
    for (let i = 0; i < gray.length; i++) {
      const [r, g, b, a] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2], png.data[4 * i + 3] / 255];
      gray[i] = (0.299 * r + 0.587 * g + 0.114 * b) * a + 255 * (1 - a); // transparent → white paper
    }
    if (features !== 784) throw new BadInputError(`${path}: PNG input needs a 784-input model, this one takes ${features}`, { file: path });
    return { images: toMnistDigit({ width: png.width, height: png.height, pixels: gray }), count: 1 };
  }
  const idx = parseIdx(bytes, path);
  const count = idx.dims.length === 1 ? 1 : idx.dims[0];
  const per = idx.data.length / count;
  if (per !== features) throw new BadInputError(`${path}: images of ${idx.dims.slice(1).join('×')} = ${per} pixels, the model takes ${features}`, { file: path });
  return { images: idx.data, count };
}
