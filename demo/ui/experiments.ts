// The Experiments panel: a queue of configurations, their validation curves overlaid (uPlot), the ranked
// table of `npm run sweep` and its CSV. The worker trains them (demo/worker.ts, src/experiments/run.ts).
import uPlot from 'uplot';
import { checkExperiment, DEFAULT_EXPERIMENT, experimentName, parseHiddenWidths, type ExperimentConfig } from '../../src/experiments/config.js';
import type { ExperimentResult } from '../../src/experiments/run.js';
import { resultRows, resultsCsv } from '../../src/experiments/table.js';
import { MNIST_CLASSES, MNIST_FEATURES } from '../../src/data/mnist.js';
import { formatLayers, LAYER_KINDS, LAYER_MODULES, mlpLayerSpecs, parseLayers, type LayerSpec } from '../../src/layers/index.js';
import { byId, el } from './dom.js';

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
const HEIGHT = 240;

/** The registry's activations, the kinds made by src/layers/activation.ts (each module keeps its definition). */
export const ACTIVATION_KINDS = LAYER_KINDS.filter((kind) => 'def' in LAYER_MODULES[kind]);

/** Fills the Activation field's suggestions from the registry: a new activation shows there without a line here. */
export function listActivations(datalist = byId<HTMLDataListElement>('exp-activations')): void {
  datalist.replaceChildren(...ACTIVATION_KINDS.map((kind) => {
    const option = el('option');
    option.value = kind;
    option.label = LAYER_MODULES[kind].doc.torch;
    return option;
  }));
}

/** The Activation field as a spec ('silu', 'leakyrelu:0.2'), checked by the registry's parser. */
function readActivation(text: string): LayerSpec {
  const kind = text.split(':')[0];
  if (!ACTIVATION_KINDS.some((k) => k === kind)) {
    throw new Error(`activation: '${text}' is not one of ${ACTIVATION_KINDS.join(', ')} (with its arguments where it takes any: leakyrelu:0.2)`);
  }
  try {
    return parseLayers(text)[0];
  } catch (e) {
    throw new Error(`activation: ${(e as Error).message}`);
  }
}

/** The panel's form as an experiment config; throws a message naming the bad field. */
export function readExperimentForm(): { config: ExperimentConfig; trainSize: number } {
  const value = (id: string) => byId<HTMLInputElement>(id).value.trim();
  const num = (id: string, what: string) => {
    const x = Number(value(id));
    if (value(id) === '' || !Number.isFinite(x)) throw new Error(`${what}: '${value(id)}' is not a number`);
    return x;
  };
  // Hidden widths ('500x300') with an activation after each, or a whole layer list ('conv2d:8:k=5,relu,maxpool2d:2,flatten,linear:10').
  const network = value('exp-hidden');
  const activation = readActivation(value('exp-activation'));
  const dropout = num('exp-dropout', 'dropout');
  // The plain MLP is ReLU's (its config names only the widths); another activation takes ReLU's places in it.
  const layers = network.includes(':') ? network
    : activation.kind === 'relu' ? undefined
    : formatLayers(mlpLayerSpecs([MNIST_FEATURES, ...parseHiddenWidths(network), MNIST_CLASSES], dropout).map((s) => (s.kind === 'relu' ? activation : s)));
  const config = checkExperiment({
    ...DEFAULT_EXPERIMENT,
    hidden: network.includes(':') ? DEFAULT_EXPERIMENT.hidden : network, ...(layers === undefined ? {} : { layers }),
    optimizer: value('exp-optimizer') as ExperimentConfig['optimizer'], lr: num('exp-lr', 'learning rate'),
    batchSize: num('exp-batch-size', 'batch size'), schedule: value('exp-schedule'), labelSmoothing: num('exp-label-smoothing', 'label smoothing'),
    dropout, epochs: num('exp-epochs', 'epochs'),
  });
  const trainSize = num('exp-train-size', 'training images');
  if (!(Number.isInteger(trainSize) && trainSize >= 1)) throw new Error(`training images: must be a positive integer, got ${trainSize}`);
  return { config, trainSize };
}

/** A legend entry short enough for a phone: a long layer list keeps its start (the table has it whole). */
const legendName = (name: string) => (name.length > 44 ? `${name.slice(0, 43)}…` : name);

export class ExperimentsView {
  readonly queue: ExperimentConfig[] = [];
  private results: (ExperimentResult | undefined)[] = [];
  private chart?: uPlot;
  private curves: (number | null)[][] = [];
  private csvUrl?: string;

  constructor(private readonly section = byId('experiments')) {}

  set status(value: 'idle' | 'running' | 'done' | 'error') {
    this.section.dataset.status = value;
  }

  add(config: ExperimentConfig): void {
    this.queue.push(config);
    this.renderQueue();
  }

  clear(): void {
    this.queue.length = 0;
    this.results = [];
    this.renderQueue();
    this.renderTable();
    this.chart?.destroy();
    this.chart = undefined;
    byId('exp-chart').replaceChildren(el('p', 'placeholder', 'Validation accuracy per epoch appears here, one line per configuration.'));
  }

  /** A new run of the whole queue: empty results, one chart line per configuration. */
  begin(): void {
    this.results = this.queue.map(() => undefined);
    const epochs = Math.max(...this.queue.map((c) => c.epochs));
    this.curves = [Array.from({ length: epochs }, (_, i) => i + 1), ...this.queue.map(() => Array<number | null>(epochs).fill(null))];
    const container = byId('exp-chart');
    container.replaceChildren();
    this.chart?.destroy();
    this.chart = new uPlot({
      width: Math.max(300, container.clientWidth), height: HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range: [0.5, epochs + 0.5] } },
      axes: [{ label: 'epoch', incrs: [1, 2, 5, 10, 20] }, { label: 'validation accuracy', size: 60, values: (_u, ticks) => ticks.map((t) => `${t}%`) }],
      series: [
        { label: 'epoch' },
        ...this.queue.map((c, i) => ({
          label: `${i + 1}. ${legendName(experimentName(c))}`, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: true, size: 6 },
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : `${v.toFixed(2)}%`),
        })),
      ],
    }, this.curves as uPlot.AlignedData, container);
    new ResizeObserver(() => {
      const width = Math.floor(container.clientWidth);
      if (this.chart && width > 0 && width !== this.chart.width) this.chart.setSize({ width, height: HEIGHT });
    }).observe(container);
    this.renderQueue();
    this.renderTable();
  }

  running(index: number): void {
    this.renderQueue(index);
  }

  epoch(index: number, epoch: number, validationAccuracy: number): void {
    this.curves[index + 1][epoch - 1] = 100 * validationAccuracy;
    this.chart?.setData(this.curves as uPlot.AlignedData);
  }

  finished(index: number, result: ExperimentResult): void {
    this.results[index] = result;
    this.renderQueue();
    this.renderTable();
  }

  private renderQueue(running = -1): void {
    const list = byId('exp-queue');
    if (this.queue.length === 0) {
      list.replaceChildren(el('li', 'placeholder', 'The queue is empty: add a configuration.'));
      return;
    }
    list.replaceChildren(...this.queue.map((c, i) => {
      const item = el('li', i === running ? 'running' : this.results[i] ? 'finished' : '', experimentName(c));
      item.style.color = this.chart ? PALETTE[i % PALETTE.length] : '';
      return item;
    }));
  }

  private renderTable(): void {
    const done = this.results.filter((r): r is ExperimentResult => r !== undefined);
    const body = byId('exp-table').querySelector('tbody')!;
    const link = byId<HTMLAnchorElement>('exp-csv');
    if (this.csvUrl) URL.revokeObjectURL(this.csvUrl);
    this.csvUrl = undefined;
    if (done.length === 0) {
      const cell = el('td', 'placeholder', 'No results yet.');
      cell.colSpan = 10;
      const row = el('tr');
      row.append(cell);
      body.replaceChildren(row);
      link.removeAttribute('href');
      link.setAttribute('aria-disabled', 'true');
      return;
    }
    body.replaceChildren(...resultRows(done).map((cells, i) => {
      const row = el('tr', i === 0 ? 'best' : '');
      row.append(...cells.map((text, j) => el('td', j === 1 ? 'name' : '', text)));
      return row;
    }));
    this.csvUrl = URL.createObjectURL(new Blob([resultsCsv(done)], { type: 'text/csv' }));
    link.href = this.csvUrl;
    link.setAttribute('aria-disabled', 'false');
  }
}
