// The misclassified test digits the model was surest of (most confident first), each with what the model said,
// how sure it was, and what the digit is.
import type { Misclassified } from '../protocol.js';
import { el } from './dom.js';
import { digitCanvas } from './digits.js';

/** Rounded down, so a 99.97 % answer reads 99.9 %, never a certain-looking 100 %. */
const confidenceText = (p: number) => `${(Math.floor(p * 1000) / 10).toFixed(1)}%`;

/** `onPick` receives a digit the reader clicks (the page shows the model's probabilities for it). */
export function renderMisclassified(container: HTMLElement, digits: Misclassified[], testErrors: number, onPick: (d: Misclassified) => void): void {
  container.replaceChildren();
  if (!digits.length) {
    container.append(el('p', 'hint', 'No test digit was misclassified.'));
    return;
  }
  const note = testErrors > digits.length ? `the ${digits.length} most confident of ${testErrors.toLocaleString('en-US')} mistakes` : `all ${digits.length} mistakes`;
  container.append(el('p', 'hint', `${note}, surest first, with the probability the model gave its wrong answer; click one to see all ten`));
  const grid = el('div', 'gallery');
  for (const digit of digits) {
    const figure = el('button', 'digit');
    figure.type = 'button';
    figure.title = `test image #${digit.index}`;
    figure.dataset.confidence = String(digit.confidence);
    figure.append(digitCanvas(digit.pixels, 56));
    const caption = el('span', 'caption');
    caption.append(el('b', '', `said ${digit.predicted}`), el('span', 'confidence', `${confidenceText(digit.confidence)} sure`), el('span', '', `true ${digit.label}`));
    figure.append(caption);
    figure.addEventListener('click', () => onPick(digit));
    grid.append(figure);
  }
  container.append(grid);
}
