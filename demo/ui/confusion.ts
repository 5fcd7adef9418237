// The test set's 10×10 confusion matrix as a table: rows are true labels, columns predictions. Every cell is
// coloured by its share of its row (the true digit's test images), so rows with more images don't look worse:
// the diagonal green by the share recognised, mistakes red by the share taken for that digit. Mistakes are a
// few percent of a row at most, so their red is full at MISTAKE_FULL and grows as the square root below it.
import { el, percent } from './dom.js';

const MISTAKE_FULL = 0.05;
const green = (share: number) => `rgba(5, 150, 105, ${(0.08 + 0.72 * share).toFixed(3)})`;
const red = (share: number) => `rgba(220, 38, 38, ${(0.06 + 0.74 * Math.sqrt(Math.min(1, share / MISTAKE_FULL))).toFixed(3)})`;

export function renderConfusion(container: HTMLElement, confusion: number[]): void {
  const rowTotals = Array.from({ length: 10 }, (_, r) => confusion.slice(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0));

  const table = el('table', 'confusion');
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
      const share = rowTotals[r] ? count / rowTotals[r] : 0;
      const cell = el('td', r === c ? 'hit' : count ? 'miss' : 'zero', String(count));
      cell.dataset.share = String(share);
      if (r === c) cell.style.background = green(share);
      else if (count) cell.style.background = red(share);
      cell.title = `true ${r}, predicted ${c}: ${count} of ${rowTotals[r]} test images (${percent(share, 1)})`;
      row.append(cell);
    }
    row.append(el('td', 'recall', rowTotals[r] ? percent(confusion[r * 11] / rowTotals[r], 1) : '–'));
    body.append(row);
  }
  table.append(body);
  // The table scrolls sideways on its own if it must; the key stays in view below it.
  const scroller = el('div', 'table-scroll');
  scroller.append(table);
  const key = `rows: true digit · columns: predicted digit · colour: share of the row (red is full at ${percent(MISTAKE_FULL, 0)}) · last column: share of that digit recognised`;
  container.replaceChildren(scroller, el('p', 'hint', key));
}
