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

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** What a file that is not a PNG looks like, from its first bytes, for the message. */
function sniff(bytes: Uint8Array): string {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().toLowerCase();
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'a JPEG';
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('svg'))) return 'an SVG';
  if (head.startsWith('<')) return 'HTML or XML';
  if (head.startsWith('gif8')) return 'a GIF';
  if (head.startsWith('riff')) return 'a RIFF file (WebP?)';
  return bytes.length === 0 ? 'empty' : 'something else';
}

/** The PNG signature, then width and height from the header (IHDR), before decoding anything. */
function checkPngSize(bytes: Uint8Array, path: string): void {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new BadInputError(`${path}: not a PNG file (no PNG signature; it looks like ${sniff(bytes)})`, { file: path });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [width, height] = [view.getUint32(16, false), view.getUint32(20, false)];
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new BadInputError(`${path}: ${width}×${height} pixels is over the ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE} limit for a digit to predict`, { file: path });
  }
}

export function loadImagesForPrediction(path: string, features = 784): { images: Uint8Array; count: number; warning?: string } {
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
    const images = toMnistDigit({ width: png.width, height: png.height, pixels: gray });
    // A prediction is made either way; these say when it cannot mean much.
    const warning = png.width < 8 || png.height < 8
      ? `${path} is ${png.width}×${png.height} pixels, too small to hold a digit: the prediction means little`
      : images.every((v) => v === 0) ? `${path} holds no ink (a blank page): the prediction means nothing` : undefined;
    return { images, count: 1, ...(warning ? { warning } : {}) };
  }
  const idx = parseIdx(bytes, path);
  const count = idx.dims.length === 1 ? 1 : idx.dims[0];
  if (count === 0 || idx.data.length === 0) throw new BadInputError(`${path}: holds no images (dimensions [${idx.dims.join(', ')}])`, { file: path });
  const per = idx.data.length / count;
  if (per !== features) {
    // A 1-D file is one image of all its bytes: it has no image dimensions to show.
    const what = idx.dims.length === 1 ? `one image of ${per} pixels (a 1-D file of [${idx.dims[0]}])` : `images of ${idx.dims.slice(1).join('×')} = ${per} pixels`;
    throw new BadInputError(`${path}: ${what}, the model takes ${features}`, { file: path });
  }
  return { images: idx.data, count };
}
