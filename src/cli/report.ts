// What a training run prints, the same for Node (train) and headless Chromium (train:browser):
// the adapter, the model and data, a live progress bar per epoch, a line per epoch, the test accuracy.
import { describeDefaults } from '../gpu/variants.js';
import type { AdapterDescription } from '../gpu/device.js';
import { formatAdapter } from '../gpu/device.js';
import type { EpochInfo, Evaluation, StepInfo } from '../engine/model.js';
import { counted, formatSeconds, ProgressBar } from './progress.js';

export const fmt = (x: number, digits = 4) => x.toFixed(digits);
export const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
export const int = (x: number) => Math.round(x).toLocaleString('en-US');

/** A result's task metrics in words: accuracy, or mean absolute error and R² ('mse'), or per-label accuracy ('bce'). */
export function metricsText(e: Pick<Evaluation, 'accuracy' | 'meanAbsoluteError' | 'r2' | 'labelAccuracy'>, prefix = ''): string {
  if (e.meanAbsoluteError !== undefined) return `${prefix}mae ${fmt(e.meanAbsoluteError)}${e.r2 === undefined ? '' : `  ${prefix}r2 ${fmt(e.r2)}`}`;
  if (e.labelAccuracy !== undefined) return `${prefix}label acc ${pct(e.labelAccuracy)}`;
  return `${prefix}acc ${pct(e.accuracy)}`;
}

/**
 * A plain-text table: the first `leftColumns` columns left-aligned, the others right-aligned, sized to the header
 * and the full rows; a short row (a failure: name, message) runs past the columns.
 */
export function table(header: string[], rows: string[][], leftColumns = 1): string {
  const full = rows.filter((r) => r.length === header.length);
  const widths = header.map((h, i) => Math.max(h.length, ...(i === 0 ? rows : full).map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.length < header.length
      ? [cells[0].padEnd(widths[0]), ...cells.slice(1)].join('  ')
      : cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export interface RunDescription {
  sizes: number[];
  /** The written layer list. */
  layers?: string;
  /** The model by its architecture, '784 → linear:500,relu,linear:10' (Architecture.name). */
  name: string;
  parameters: number;
  optimizer: { kind: string; lr: number; weightDecay?: number };
  /** Extras of the recipe in words (schedule, label smoothing, early stopping), if any. */
  extras?: string[];
  batchSize: number;
  epochs: number;
  seed: number;
  pixelMean: number;
  pixelStd: number;
  train: number;
  validation: number;
  test: number;
  dataSource: string;
  /** How the inputs are read, in words, where they are not pixels (a table's f32 features). */
  inputs?: string;
}

export class TrainReporter {
  private readonly bar = new ProgressBar();
  private epochStarted = 0;
  private lastLoss = NaN;
  readonly history: EpochInfo[] = [];
  private trainCount = 0;
  private epochs = 0;
  /** What a row of the data is called in the test line: an image, or a table's row. */
  private rowNoun = 'image';
  readonly started = performance.now();

  adapter(info: AdapterDescription, note: string): void {
    console.log(`adapter: ${formatAdapter(info)} — ${note}; kernels: ${describeDefaults(info)}`);
  }

  /** What the progress bar measures against: images per epoch, epochs in the run. */
  track(trainCount: number, epochs: number): void {
    this.trainCount = trainCount;
    this.epochs = epochs;
  }

  describe(run: RunDescription): void {
    this.track(run.train, run.epochs);
    if (run.inputs) this.rowNoun = 'row';
    const pixels = run.inputs ?? (run.pixelStd !== 1 ? `pixels x/255 standardized (${run.pixelMean}, ${run.pixelStd})` : 'pixels x/255');
    console.log(
      `model: ${run.name} (${counted(run.parameters, 'parameter', int)}), ${run.optimizer.kind} lr ${run.optimizer.lr}` +
        `${run.optimizer.weightDecay ? ` weight decay ${run.optimizer.weightDecay}` : ''}, batch ${run.batchSize}, ${counted(run.epochs, 'epoch')}, ` +
        `seed ${run.seed}, ${pixels}${(run.extras ?? []).map((x) => `, ${x}`).join('')}`,
    );
    console.log(`data: ${int(run.train)} train / ${int(run.validation)} validation / ${int(run.test)} test (${run.dataSource})`);
  }

  step(s: StepInfo): void {
    if (s.step === 1) {
      this.epochStarted = performance.now();
      this.lastLoss = NaN;
    }
    if (s.loss !== undefined) this.lastLoss = s.loss;
    const rate = s.samples / Math.max((performance.now() - this.epochStarted) / 1000, 1e-9);
    const eta = (this.trainCount - s.samples) / rate;
    const loss = Number.isNaN(this.lastLoss) ? 'loss …' : `loss ${fmt(this.lastLoss)}`;
    const speed = s.step > 1 ? `  ${int(rate)} samples/s  ETA ${formatSeconds(eta)}` : '';
    this.bar.update(`epoch ${s.epoch}/${this.epochs}`, s.step, s.stepsPerEpoch, `${loss}${speed}`);
  }

  epoch(e: EpochInfo): void {
    this.bar.done();
    this.history.push(e);
    const val = e.validation ? `  val loss ${fmt(e.validation.loss)}  ${metricsText(e.validation, 'val ')}` : '';
    const train = metricsText({ accuracy: e.trainAccuracy, meanAbsoluteError: e.trainMeanAbsoluteError, r2: e.trainR2, labelAccuracy: e.trainLabelAccuracy }, 'train ');
    console.log(
      `epoch ${String(e.epoch).padStart(2)}  train loss ${fmt(e.trainLoss)}  ${train}${val}  ` +
        `${e.seconds.toFixed(1)}s  ${int(e.samplesPerSecond)} samples/s`,
    );
  }

  test(result: Evaluation, trainSeconds: number): void {
    const detail = `(loss ${fmt(result.loss)}, ${counted(result.count, this.rowNoun, int)}, trained in ${formatSeconds(trainSeconds)})`;
    if (result.r2 !== undefined) console.log(`test mae: ${fmt(result.meanAbsoluteError!)} ${detail}\ntest r2: ${fmt(result.r2)}`);
    else if (result.labelAccuracy !== undefined) console.log(`test per-label accuracy: ${pct(result.labelAccuracy)} ${detail}`);
    else console.log(`test accuracy: ${pct(result.accuracy)} ${detail}`);
  }

  /** The machine-readable record behind --json. */
  results(config: Record<string, unknown>, adapter: Record<string, unknown>, test: Evaluation, trainSeconds: number) {
    const h = this.history;
    return {
      config, adapter, history: h, test,
      timings: { trainSeconds, meanSamplesPerSecond: h.reduce((a, e) => a + e.samplesPerSecond, 0) / Math.max(1, h.length) },
    };
  }
}
