// The prediction panel: ten probability bars, the predicted digit, and the 28×28 picture the model was given.
import { el } from './dom.js';
import { paintDigit } from './digits.js';

export class PredictionView {
  private readonly fills: HTMLElement[] = [];
  private readonly values: HTMLElement[] = [];
  private readonly columns: HTMLElement[] = [];

  constructor(
    private readonly bars: HTMLElement,
    private readonly digit: HTMLElement,
    private readonly input: HTMLCanvasElement,
    private readonly hint: HTMLElement,
  ) {
    for (let d = 0; d < 10; d++) {
      const column = el('div', 'bar-column');
      const track = el('div', 'bar-track');
      const fill = el('div', 'bar-fill');
      track.append(fill);
      const value = el('span', 'bar-value', '');
      column.append(value, track, el('span', 'bar-label', String(d)));
      this.bars.append(column);
      this.columns.push(column);
      this.fills.push(fill);
      this.values.push(value);
    }
    this.clear();
  }

  /** The hint shown under the pad (e.g. "train or load a model first"). */
  setHint(text: string): void {
    this.hint.textContent = text;
  }

  /** What the model sees: the drawing after centring and scaling to 28×28. */
  showInput(pixels: Uint8Array): void {
    paintDigit(this.input, pixels);
  }

  show(probabilities: number[]): void {
    let best = 0;
    for (let d = 1; d < 10; d++) if (probabilities[d] > probabilities[best]) best = d;
    for (let d = 0; d < 10; d++) {
      const p = probabilities[d] ?? 0;
      this.fills[d].style.height = `${(p * 100).toFixed(1)}%`;
      this.values[d].textContent = p >= 0.005 ? `${Math.round(p * 100)}%` : '';
      this.columns[d].classList.toggle('best', d === best);
      this.columns[d].title = `${d}: ${(p * 100).toFixed(2)}%`;
    }
    this.digit.textContent = String(best);
    this.digit.dataset.value = String(best);
  }

  clear(): void {
    for (let d = 0; d < 10; d++) {
      this.fills[d].style.height = '0';
      this.values[d].textContent = '';
      this.columns[d].classList.remove('best');
    }
    this.digit.textContent = '?';
    this.digit.removeAttribute('data-value');
    paintDigit(this.input, new Uint8Array(784));
  }
}
