// The Bench panel: its small form, a progress line and the two result tables, filled in row by row as the
// worker streams results (it runs the same src/bench code as `npm run bench`).
import { formatLayers, mlpLayerSpecs } from '../../src/layers/index.js';
import type { StepBreakdown } from '../../src/bench/step.js';
import type { BenchProduct, BenchRequest, BenchVariantRow } from '../protocol.js';
import { byId, el } from './dom.js';

export type BenchStatus = 'idle' | 'running' | 'done' | 'error';

/** Keeps a run sensible in a tab: the float64 check and the baseline kernel grow with the batch. */
const MAX_BATCH = 1024;

/** Milliseconds as the Node bench prints them: three decimals below 1 ms. */
const ms = (x: number) => x.toFixed(x < 1 ? 3 : 2);

function row(cells: (string | HTMLElement)[], className = ''): HTMLTableRowElement {
  const tr = el('tr', className);
  for (const cell of cells) tr.append(typeof cell === 'string' ? el('td', '', cell) : cell);
  return tr;
}

function placeholderBody(columns: number, text: string): HTMLTableSectionElement {
  const cell = el('td', 'placeholder', text);
  cell.colSpan = columns;
  const body = el('tbody');
  body.append(row([cell]));
  return body;
}

interface ProductView {
  info: BenchProduct;
  body: HTMLTableSectionElement;
  seen: number;
  best?: { ms: number; row: HTMLTableRowElement };
}

export class BenchView {
  private readonly root = byId('bench');
  private readonly form = byId<HTMLFormElement>('bench-form');
  private readonly batch = byId<HTMLInputElement>('bench-batch-size');
  private readonly quick = byId<HTMLInputElement>('bench-quick');
  private readonly run = byId<HTMLButtonElement>('bench-run');
  private readonly progress = byId('bench-progress');
  private readonly elapsed = byId('bench-elapsed');
  private readonly step = byId<HTMLTableElement>('bench-step');
  private readonly matmul = byId<HTMLTableElement>('bench-matmul');
  private products = new Map<number, ProductView>();
  private started = 0;
  private timer: number | undefined;

  constructor(onRun: (request: BenchRequest) => void) {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.run.disabled) return;
      const request = this.read();
      if (request) onRun(request);
    });
    this.clearTables();
  }

  /** canRun: nothing else holds the GPU; running: this panel's run is in flight. */
  setControls(canRun: boolean, running: boolean): void {
    this.run.disabled = !canRun;
    this.batch.disabled = running;
    this.quick.disabled = running;
  }

  start(request: BenchRequest): void {
    this.setStatus('running');
    this.clearTables();
    this.products.clear();
    this.step.caption!.textContent = `${request.quick ? '784-64-10' : '784-500-10'} MLP, Adam, batch ${request.batchSize}`;
    this.say('Timing each kernel of one training step…');
    this.started = performance.now();
    window.clearInterval(this.timer);
    // A full run takes minutes on a software adapter: a ticking clock shows the page is alive.
    this.timer = window.setInterval(() => this.showElapsed(), 1000);
    this.showElapsed();
  }

  showStep(sizes: number[], b: StepBreakdown): void {
    this.step.caption!.textContent = `${sizes[0]} → ${formatLayers(mlpLayerSpecs(sizes))}, Adam, batch ${b.batchSize}`;
    const body = el('tbody');
    for (const k of b.kernels) {
      const share = k.timing.medianMs / b.kernelSumMs;
      const shareCell = el('td', 'share', `${(100 * share).toFixed(1)}%`);
      shareCell.style.setProperty('--share', `${(100 * share).toFixed(1)}%`);
      body.append(row([el('td', 'name', k.label), ms(k.timing.medianMs), ms(k.timing.minMs), ms(k.timing.maxMs), shareCell]));
    }
    const foot = el('tfoot');
    foot.append(row([el('td', 'name', 'sum of kernels'), ms(b.kernelSumMs), '', '', '100%']));
    foot.append(row([el('td', 'name', 'step dispatches back to back'), ms(b.dispatchesMs), '', '', `${(b.dispatchesMs / b.kernelSumMs).toFixed(2)}× sum`]));
    this.step.tBodies[0].replaceWith(body);
    this.step.tFoot?.remove();
    this.step.append(foot);
    this.say('Verifying and timing matmul variants…');
  }

  startProduct(info: BenchProduct): void {
    if (this.products.size === 0) this.matmul.tBodies[0].remove(); // the placeholder
    const heading = el('th', '', `${info.form} M=${info.shape.M} N=${info.shape.N} K=${info.shape.K} · ${info.what}`);
    heading.colSpan = 5;
    const body = el('tbody');
    body.dataset.form = info.form;
    body.append(row([heading], 'group'));
    this.matmul.append(body);
    this.products.set(info.index, { info, body, seen: 0 });
    this.sayProduct(this.products.get(info.index)!);
  }

  addVariant(product: number, r: BenchVariantRow): void {
    const view = this.products.get(product);
    if (!view) return;
    view.seen++;
    const name = el('td', 'name', r.variant);
    let tr: HTMLTableRowElement;
    if (r.skipped) {
      tr = row([name, el('td', 'muted', 'not run'), '–', '–', '–'], 'skipped');
      tr.title = r.skipped;
    } else {
      const verified = el('td', r.verified ? 'ok' : 'bad', r.verified ? 'yes' : `NO (${r.maxError.toExponential(1)})`);
      verified.title = `largest difference from the float64 reference: ${r.maxError.toExponential(2)}`;
      tr = row([name, verified, r.timing ? ms(r.timing.medianMs) : '–', r.gflops ? r.gflops.toFixed(2) : '–', r.speedup ? `${r.speedup.toFixed(1)}×` : '–']);
      if (r.timing) tr.title = `median of the trials; min ${ms(r.timing.minMs)} ms, max ${ms(r.timing.maxMs)} ms`;
      // The fastest verified variant so far stands out.
      if (r.verified && r.timing && (!view.best || r.timing.medianMs < view.best.ms)) {
        view.best?.row.classList.remove('best');
        tr.classList.add('best');
        view.best = { ms: r.timing.medianMs, row: tr };
      }
    }
    view.body.append(tr);
    this.sayProduct(view);
  }

  finish(seconds: number): void {
    this.stopClock();
    this.setStatus('done');
    const failed = this.matmul.querySelectorAll('td.bad').length;
    this.say(`Done in ${seconds.toFixed(1)} s.${failed ? ` ${failed} variant${failed > 1 ? 's' : ''} did not match the reference.` : ' Every variant that ran matched the float64 reference.'}`);
  }

  fail(message: string): void {
    this.stopClock();
    this.setStatus('error');
    this.say(`The benchmark failed: ${message}`);
  }

  /** The form's request, or undefined after flagging the batch size. */
  private read(): BenchRequest | undefined {
    const text = this.batch.value.trim();
    const batchSize = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(batchSize >= 1 && batchSize <= MAX_BATCH)) {
      this.batch.setAttribute('aria-invalid', 'true');
      this.say(`Batch size: a whole number from 1 to ${MAX_BATCH}.`);
      return undefined;
    }
    this.batch.removeAttribute('aria-invalid');
    return { batchSize, quick: this.quick.checked };
  }

  private sayProduct(view: ProductView): void {
    const { info, seen } = view;
    const next = seen < info.variants ? `, variant ${seen + 1} of ${info.variants}…` : ': done.';
    this.say(`Matmul ${info.form} (${info.what})${next}`);
  }

  private setStatus(status: BenchStatus): void {
    this.root.dataset.status = status;
  }

  private say(text: string): void {
    this.progress.textContent = text;
  }

  private showElapsed(): void {
    this.elapsed.textContent = `${Math.round((performance.now() - this.started) / 1000)} s`;
  }

  /** The finish line states the total, so the running clock goes. */
  private stopClock(): void {
    window.clearInterval(this.timer);
    this.timer = undefined;
    this.elapsed.textContent = '';
  }

  private clearTables(): void {
    this.step.tBodies[0]?.replaceWith(placeholderBody(5, 'Appears after a run.'));
    this.step.tFoot?.remove();
    for (const body of Array.from(this.matmul.tBodies)) body.remove();
    this.matmul.append(placeholderBody(5, 'Appears after a run.'));
  }
}
