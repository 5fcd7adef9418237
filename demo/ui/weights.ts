// The first layer's weights drawn as tiles: a linear layer's 28×28 tile j shows how strongly each pixel drives
// hidden unit j; a convolution's k×k tile j is filter j. Blue pixels push the unit down, red pixels push it up;
// each tile uses its own scale (its largest |weight|) so zero stays white and faint units are still readable.
import { el } from './dom.js';

const MAX_TILES = 64;

/** Blue (-1) → white (0) → red (+1). */
function diverging(t: number): [number, number, number] {
  const a = Math.min(1, Math.abs(t));
  return t < 0 ? [255 - 218 * a, 255 - 156 * a, 255 - 20 * a] : [255 - 35 * a, 255 - 217 * a, 255 - 217 * a];
}

/** `firstLayer` is PyTorch's [hidden × side²] row-major: the weight of pixel i for unit j is at j·side² + i. */
export function renderWeights(container: HTMLElement, firstLayer: Float32Array, hidden: number, SIDE = 28): void {
  const units = Math.min(hidden, MAX_TILES);
  const what = SIDE === 28 ? 'hidden unit' : `${SIDE}×${SIDE} filter`;
  const grid = el('div', 'weights-grid');
  for (let j = 0; j < units; j++) {
    let scale = 0;
    for (let i = 0; i < SIDE * SIDE; i++) scale = Math.max(scale, Math.abs(firstLayer[j * SIDE * SIDE + i]));
    const canvas = el('canvas', 'pixelated');
    canvas.width = canvas.height = SIDE;
    canvas.title = `${what} ${j}, |w| ≤ ${scale.toPrecision(3)}`;
    const context = canvas.getContext('2d')!;
    const image = context.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i++) {
      const [r, g, b] = diverging(scale ? firstLayer[j * SIDE * SIDE + i] / scale : 0);
      image.data.set([r, g, b, 255], i * 4);
    }
    context.putImageData(image, 0, 0);
    grid.append(canvas);
  }
  const note = hidden > units ? `the first ${units} of ${hidden} ${what}s` : `all ${hidden} ${what}s`;
  container.replaceChildren(el('p', 'hint', `${note} · blue: negative weight, red: positive, white: zero`), grid);
}
