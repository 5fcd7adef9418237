// The test set's 10×10 confusion matrix as a table: rows are true labels, columns predictions.
// Correct counts (the diagonal) are shaded green by the row's recall; mistakes red by their count relative to
// the largest mistake, so the few errors stay visible next to ~1,000 correct answers per row.
import { el, percent } from './dom.js';

const green = (t: number) => `rgba(5, 150, 105, ${0.08 + 0.72 * t})`;
const red = (t: number) => `rgba(220, 38, 38, ${0.06 + 0.74 * t})`;

export function renderConfusion(container: HTMLElement, confusion: number[]): void {
  const rowTotals = Array.from({ length: 10 }, (_, r) => confusion.slice(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0));
  let maxError = 0;
  for (let r = 0; r < 10; r++) for (let c = 0; c < 10; c++) if (r !== c) maxError = Math.max(maxError, confusion[r * 10 + c]);

  const table = el('table', 'confusion');
  const caption = el('caption', '', 'rows: true digit · columns: predicted digit · last column: share of that digit recognised');
  table.append(caption);
  const head = el('tr');
  head.append(el('th', 'corner', 'true ↓ / pred →'));
  for (let c = 0; c < 10; c++) head.append(el('th', '', String(c)));
  head.append(el('th', '', 'recall'));
  table.append(el('thead'));
  table.tHead!.append(head);

  const body = el('tbody');
  for (let r = 0; r < 10; r++) {
    const row = el('tr');
    row.append(el('th', '', String(r)));
    for (let c = 0; c < 10; c++) {
      const count = confusion[r * 10 + c];
      const cell = el('td', r === c ? 'hit' : count ? 'miss' : 'zero', String(count));
      if (r === c) cell.style.background = green(rowTotals[r] ? count / rowTotals[r] : 0);
      else if (count) cell.style.background = red(maxError ? Math.sqrt(count / maxError) : 0);
      cell.title = `true ${r}, predicted ${c}: ${count} of ${rowTotals[r]} test images`;
      row.append(cell);
    }
    row.append(el('td', 'recall', rowTotals[r] ? percent(confusion[r * 11] / rowTotals[r], 1) : '–'));
    body.append(row);
  }
  table.append(body);
  container.replaceChildren(table);
}
