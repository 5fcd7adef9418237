// Drawing 28×28 u8 digits (MNIST's form: white digit on black) onto canvases.

export const SIDE = 28;

/** A canvas holding one digit at its native 28×28; CSS scales it up with crisp pixels. */
export function digitCanvas(pixels: Uint8Array, cssSize: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = SIDE;
  canvas.height = SIDE;
  canvas.className = 'pixelated';
  canvas.style.width = canvas.style.height = `${cssSize}px`;
  paintDigit(canvas, pixels);
  return canvas;
}

export function paintDigit(canvas: HTMLCanvasElement, pixels: Uint8Array): void {
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = pixels[i];
    image.data.set([v, v, v, 255], i * 4);
  }
  context.putImageData(image, 0, 0);
}
