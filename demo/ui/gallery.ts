// The misclassified test digits, each with what the model said and what it is.
import type { Misclassified } from '../protocol.js';
import { el } from './dom.js';
import { digitCanvas } from './digits.js';

/** `onPick` receives a digit the reader clicks (the page shows the model's probabilities for it). */
export function renderMisclassified(container: HTMLElement, digits: Misclassified[], testErrors: number, onPick: (d: Misclassified) => void): void {
  container.replaceChildren();
  if (!digits.length) {
    container.append(el('p', 'hint', 'No test digit was misclassified.'));
    return;
  }
  const note = testErrors > digits.length ? `the first ${digits.length} of ${testErrors.toLocaleString('en-US')} mistakes` : `all ${digits.length} mistakes`;
  container.append(el('p', 'hint', `${note}; click one to see the model's probabilities for it`));
  const grid = el('div', 'gallery');
  for (const digit of digits) {
    const figure = el('button', 'digit');
    figure.type = 'button';
    figure.title = `test image #${digit.index}`;
    figure.append(digitCanvas(digit.pixels, 56));
    const caption = el('span', 'caption');
    caption.append(el('b', '', `predicted ${digit.predicted}`), el('span', '', `, true ${digit.label}`));
    figure.append(caption);
    figure.addEventListener('click', () => onPick(digit));
    grid.append(figure);
  }
  container.append(grid);
}
