// A few training images with their labels, shown once MNIST is loaded: what the network will learn from.
import type { LabelledDigit } from '../protocol.js';
import { el } from './dom.js';
import { digitCanvas } from './digits.js';

export function renderPreview(container: HTMLElement, digits: LabelledDigit[]): void {
  const grid = el('div', 'digit-preview');
  for (const digit of digits) {
    const figure = el('figure');
    figure.append(digitCanvas(digit.pixels, 48), el('figcaption', '', String(digit.label)));
    grid.append(figure);
  }
  container.replaceChildren(grid);
}
