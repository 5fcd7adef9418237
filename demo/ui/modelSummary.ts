// The network the form describes, before it is trained: each layer with its output shape, its parameter
// tensors' shapes and their count, and the total. Walks the same architecture the engine builds.
import { architecture, defaultInputShape } from '../../src/layers/architecture.js';
import type { LayerSpec } from '../../src/layers/index.js';
import { el, integer } from './dom.js';

/** `layers` undefined: the form's widths are not valid yet, so say so instead of guessing. */
export function renderModelSummary(container: HTMLElement, layers: LayerSpec[] | undefined): void {
  if (!layers) {
    container.removeAttribute('data-total');
    container.replaceChildren(el('p', 'placeholder', 'Enter valid hidden layer sizes to see the network.'));
    return;
  }
  const model = architecture(layers, defaultInputShape(layers));
  const table = el('table', 'model-summary');
  const head = el('tr');
  for (const title of ['layer', 'output', 'shapes', 'parameters']) head.append(el('th', '', title));
  table.createTHead().append(head);

  const body = table.createTBody();
  const row = (cells: string[], title = '') => {
    const tr = el('tr');
    for (const text of cells) tr.append(el('td', '', text));
    if (title) tr.title = title;
    body.append(tr);
  };
  row(['input', model.inputShape.join('×'), '–', '0'], '28×28 pixels');
  let total = 0;
  for (const layer of model.layers) {
    const count = layer.parameters.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    total += count;
    // Compact ("784×500 + 500") so the table fits a phone; the row's tooltip names the tensors.
    const shapes = layer.parameters.map((p) => p.shape.join('×')).join(' + ') || '–';
    const names = layer.parameters.map((p) => `${layer.index}.${p.role} ${p.shape.join('×')}`).join(', ');
    row([layer.spec.kind, layer.outputShape.join('×'), shapes, integer(count)], names);
  }
  const foot = el('tr');
  foot.append(el('td', '', 'total'), el('td'), el('td'), el('td', '', integer(total)));
  table.createTFoot().append(foot);

  container.dataset.total = String(total);
  const scroller = el('div', 'table-scroll');
  scroller.append(table);
  container.replaceChildren(el('p', 'hint', `${model.name}: ${integer(total)} numbers to learn`), scroller);
}
