// Page images as model rows in a real browser: a canvas, an OffscreenCanvas and an ImageBitmap drawn at the
// model's size, and a labelled set from them (test/e2e/pageImages.test.ts checks the bytes).
import { datasetFromImages, imageToRow } from '../../../src/data/pageImages.js';

/** A 4×2 canvas: the left half orange (255, 128, 0), the right half blue. */
function halves<C extends HTMLCanvasElement | OffscreenCanvas>(canvas: C): C {
  const context = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
  context.fillStyle = '#ff8000';
  context.fillRect(0, 0, 2, 2);
  context.fillStyle = '#0000ff';
  context.fillRect(2, 0, 2, 2);
  return canvas;
}

async function main() {
  const element = halves(Object.assign(document.createElement('canvas'), { width: 4, height: 2 }));
  const offscreen = halves(new OffscreenCanvas(4, 2));
  const bitmap = await createImageBitmap(element);
  const blank = new OffscreenCanvas(4, 4);
  const set = datasetFromImages([element, bitmap], { shape: [1, 1, 2], labels: [1, 0], classes: 2 });
  (window as unknown as { rows: unknown }).rows = {
    element: Array.from(imageToRow(element, [3, 1, 2])),
    offscreen: Array.from(imageToRow(offscreen, [3, 1, 2])),
    bitmap: Array.from(imageToRow(bitmap, [1, 1, 2])),
    imageData: Array.from(imageToRow(element.getContext('2d')!.getImageData(0, 0, 4, 2), [1, 1, 2])),
    blank: Array.from(imageToRow(blank, [1, 2, 2])),
    set: { count: set.count, features: set.features, images: Array.from(set.images), labels: Array.from(set.labels) },
  };
}

main().catch((e) => {
  (window as unknown as { rows: unknown }).rows = { error: String(e?.message ?? e) };
});
