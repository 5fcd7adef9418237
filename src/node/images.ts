// Images for prediction from files: PNG (any size, color or gray; preprocessed like MNIST) or IDX
// (u8 images [n × 28 × 28], used as they are).
import { PNG } from 'pngjs';
import { parseIdx } from '../data/idx.js';
import { toMnistDigit } from '../data/digitImage.js';
import { readFileChecked } from './files.js';

export function loadImagesForPrediction(path: string, features = 784): { images: Uint8Array; count: number } {
  const bytes = readFileChecked(path);
  if (/\.png$/i.test(path)) {
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(bytes));
    } catch (e) {
      throw new Error(`${path}: not a readable PNG (${(e as Error).message})`);
    }
    const gray = new Float32Array(png.width * png.height);
    for (let i = 0; i < gray.length; i++) {
      const [r, g, b, a] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2], png.data[4 * i + 3] / 255];
      gray[i] = (0.299 * r + 0.587 * g + 0.114 * b) * a + 255 * (1 - a); // transparent → white paper
    }
    if (features !== 784) throw new Error(`${path}: PNG input needs a 784-input model, this one takes ${features}`);
    return { images: toMnistDigit({ width: png.width, height: png.height, pixels: gray }), count: 1 };
  }
  const idx = parseIdx(bytes, path);
  const count = idx.dims.length === 1 ? 1 : idx.dims[0];
  const per = idx.data.length / count;
  if (per !== features) throw new Error(`${path}: images of ${idx.dims.slice(1).join('×')} = ${per} pixels, the model takes ${features}`);
  return { images: idx.data, count };
}
