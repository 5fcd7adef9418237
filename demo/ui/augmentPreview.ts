// The distortions preview: the same training digits, distorted anew at each click by the float64 twin of the
// GPU sampler (src/augment/reference.ts), so what shows is what a training step draws for those rows.
import { augmentImageBytes } from '../../src/augment/reference.js';
import type { Augmentation } from '../../src/augment/spec.js';
import type { LabelledDigit } from '../protocol.js';
import { el } from './dom.js';
import { digitCanvas, SIDE } from './digits.js';

const PIXELS = SIDE * SIDE;

/** Draws `digits` distorted as training step `step` of a run with `seed` would draw batch rows 0, 1, …. */
export function renderAugmentPreview(container: HTMLElement, digits: LabelledDigit[], augment: Augmentation | undefined, seed: number, step: number): void {
  const pixels = new Uint8Array(digits.length * PIXELS);
  digits.forEach((d, i) => pixels.set(d.pixels.subarray(0, PIXELS), i * PIXELS));
  const distorted = new Uint8Array(pixels.length);
  if (augment) augmentImageBytes(distorted, pixels, digits.length, [1, SIDE, SIDE], augment, { seed, step });
  const grid = el('div', 'digit-preview');
  digits.forEach((digit, i) => {
    const shown = augment ? distorted.subarray(i * PIXELS, (i + 1) * PIXELS) : digit.pixels;
    const figure = el('figure');
    figure.append(digitCanvas(shown, 48), el('figcaption', '', String(digit.label)));
    grid.append(figure);
  });
  container.replaceChildren(grid);
}

/** The preview's training digits (from the worker, once MNIST is loaded) and the step its last click drew. */
export class AugmentPreview {
  private digits: LabelledDigit[] = [];
  private step = 0;

  constructor(private readonly container: HTMLElement) {}

  setDigits(digits: LabelledDigit[]): void {
    this.digits = digits;
  }

  /** Each call draws the same digits as a later training step would: a new step, new distortions. */
  next(augment: Augmentation | undefined, seed: number): void {
    renderAugmentPreview(this.container, this.digits, augment, seed, ++this.step);
  }
}
