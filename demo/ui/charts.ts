// Live training charts (uPlot): loss and training accuracy per interval between progress points (faint) with
// their smoothed trend, against the run's step, and per-epoch losses and validation accuracy. A chart with no
// data shows its placeholder text instead of bare axes.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { smoothed, type IntervalMean } from './intervals.js';

const HEIGHT = { loss: 220, accuracy: 150, val: 220 };
const COLORS = { train: '#2563eb', trainFaint: 'rgba(37, 99, 235, 0.35)', accuracy: '#059669', accuracyFaint: 'rgba(5, 150, 105, 0.35)', val: '#dc2626' };
const fixed = (digits: number) => (_u: uPlot, v: number | null) => (v == null ? '–' : v.toFixed(digits));
const percentValue = (_u: uPlot, v: number | null) => (v == null ? '–' : `${v.toFixed(2)}%`);
/** Ticks for the log-scale loss axis: 1-2-5 in each decade, so labels stay few and round. */
const LOSS_TICKS = [-3, -2, -1, 0, 1].flatMap((e) => [1, 2, 5].map((m) => Number((m * 10 ** e).toPrecision(1))));

/** Keeps a chart as wide as its container (the layout is fluid). */
function fitWidth(chart: uPlot, container: HTMLElement, height: number): void {
  new ResizeObserver(() => {
    const width = Math.floor(container.clientWidth);
    if (width > 0 && width !== chart.width) chart.setSize({ width, height });
  }).observe(container);
}

/** The container's placeholder text (in index.html) shows while the chart has no data; CSS hides the plot then. */
function showEmpty(container: HTMLElement, empty: boolean): void {
  container.toggleAttribute('data-empty', empty);
}

/** A step-axis series pair: the per-interval values as faint points, and their smoothed line over them. */
function rawAndSmoothed(label: string, faint: string, strong: string, value: uPlot.Series['value']): uPlot.Series[] {
  return [
    { label: `${label} per interval`, stroke: faint, width: 1, points: { show: true, size: 4, fill: faint, stroke: faint }, value },
    { label: 'smoothed', stroke: strong, width: 2, points: { show: false }, value },
  ];
}

export class TrainingCharts {
  private readonly loss: uPlot;
  private readonly accuracy: uPlot;
  private readonly val: uPlot;
  private intervals: IntervalMean[] = [];
  private valData: [number[], number[], number[], number[]] = [[], [], [], []];
  /** The planned run, so the x axes span it from the first point on and epoch ends can be marked. */
  private stepsPerEpoch = 0;
  private totalEpochs = 1;

  constructor(
    private readonly lossContainer: HTMLElement,
    private readonly accuracyContainer: HTMLElement,
    private readonly valContainer: HTMLElement,
  ) {
    const width = Math.max(300, lossContainer.clientWidth);
    const stepScale: uPlot.Scale = { time: false, range: (_u, _min, max) => [0, Math.max(max, this.stepsPerEpoch * this.totalEpochs, 1)] };
    // Whole steps only: a short run's axis would otherwise read 2.5, 7.5, …
    const stepAxis: uPlot.Axis = { label: 'training step', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000] };
    const hooks = { drawAxes: [(u: uPlot) => this.markEpochEnds(u)] };
    this.loss = new uPlot(
      {
        width,
        height: HEIGHT.loss,
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        // Log scale: the first intervals' loss near 1–2 would otherwise flatten the part of the curve worth reading.
        // The range hugs the data (uPlot's default widens it to whole decades, leaving most of the chart empty).
        scales: { x: stepScale, y: { distr: 3, range: (_u, min, max) => (min > 0 ? [min / 1.25, max * 1.25] : [0.01, 10]) } },
        axes: [
          stepAxis,
          {
            label: 'loss (log scale)', size: 56,
            splits: (_u, _i, min, max) => LOSS_TICKS.filter((t) => t >= min && t <= max),
            // uPlot's log axes label only powers of ten by default; these few ticks all have room.
            filter: (_u, splits) => splits,
            values: (_u, ticks) => ticks.map((t) => (t == null ? '' : String(t))),
          },
        ],
        series: [{ label: 'step' }, ...rawAndSmoothed('loss', COLORS.trainFaint, COLORS.train, fixed(4))],
        hooks,
      },
      [[], [], []],
      lossContainer,
    );
    this.accuracy = new uPlot(
      {
        width,
        height: HEIGHT.accuracy,
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: stepScale, y: { range: (_u, min) => [Math.max(0, Math.floor(min)), 100] } },
        axes: [stepAxis, { label: 'accuracy', size: 56, values: (_u, ticks) => ticks.map((t) => `${t}%`) }],
        series: [{ label: 'step' }, ...rawAndSmoothed('accuracy', COLORS.accuracyFaint, COLORS.accuracy, percentValue)],
        hooks,
      },
      [[], [], []],
      accuracyContainer,
    );
    this.val = new uPlot(
      {
        width,
        height: HEIGHT.val,
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: false, range: (_u, _min, max) => [0.5, Math.max(max, this.totalEpochs) + 0.5] },
          accuracy: { range: (_u, min, max) => [Math.min(90, Math.floor(min)), Math.max(100, Math.ceil(max))] },
        },
        axes: [
          { label: 'epoch', incrs: [1, 2, 5, 10, 20, 50] },
          { label: 'loss', scale: 'loss', size: 56 },
          { label: 'validation accuracy', scale: 'accuracy', side: 1, size: 56, grid: { show: false }, values: (_u, ticks) => ticks.map((t) => `${t}%`) },
        ],
        series: [
          { label: 'epoch' },
          { label: 'train loss', scale: 'loss', stroke: COLORS.train, width: 2, points: { show: true, size: 7 }, value: fixed(4) },
          { label: 'val loss', scale: 'loss', stroke: COLORS.val, width: 2, points: { show: true, size: 7 }, value: fixed(4) },
          { label: 'val accuracy', scale: 'accuracy', stroke: COLORS.accuracy, width: 2, dash: [6, 4], points: { show: true, size: 7 }, value: percentValue },
        ],
      },
      this.valData,
      valContainer,
    );
    fitWidth(this.loss, lossContainer, HEIGHT.loss);
    fitWidth(this.accuracy, accuracyContainer, HEIGHT.accuracy);
    fitWidth(this.val, valContainer, HEIGHT.val);
    this.reset();
  }

  /** Empties the charts for a new run of `epochs` epochs (steps per epoch come with the first step). */
  reset(epochs = 1): void {
    this.totalEpochs = epochs;
    this.stepsPerEpoch = 0;
    this.intervals = [];
    this.valData = [[], [], [], []];
    this.drawIntervals();
    this.val.setData(this.valData);
    showEmpty(this.valContainer, true);
  }

  setStepsPerEpoch(stepsPerEpoch: number): void {
    this.stepsPerEpoch = stepsPerEpoch;
  }

  addInterval(interval: IntervalMean): void {
    // A run resumed from an earlier epoch replays steps already drawn: its new points replace the old ones.
    while (this.intervals.length && this.intervals[this.intervals.length - 1].globalStep >= interval.globalStep) this.intervals.pop();
    this.intervals.push(interval);
    this.drawIntervals();
  }

  /** The intervals drawn, oldest first (for tests: they must add up to each epoch's mean). */
  curve(): IntervalMean[] {
    return [...this.intervals];
  }

  addEpoch(epoch: number, trainLoss: number, valLoss: number, valAccuracy: number): void {
    this.valData[0].push(epoch);
    this.valData[1].push(trainLoss);
    this.valData[2].push(valLoss);
    this.valData[3].push(valAccuracy * 100);
    this.val.setData(this.valData);
    showEmpty(this.valContainer, false);
  }

  private drawIntervals(): void {
    const step = this.intervals.map((i) => i.globalStep);
    const steps = this.intervals.map((i) => i.steps);
    // A log axis cannot show 0, and rounding can put the loss of an interval the network has memorised at or below it.
    const loss = this.intervals.map((i) => Math.max(i.loss, 1e-4));
    const accuracy = this.intervals.map((i) => i.accuracy * 100);
    this.loss.setData([step, loss, smoothed(loss, steps)]);
    this.accuracy.setData([step, accuracy, smoothed(accuracy, steps)]);
    showEmpty(this.lossContainer, step.length === 0);
    showEmpty(this.accuracyContainer, step.length === 0);
  }

  /** Faint dashed verticals where each epoch ends, drawn under the series. */
  private markEpochEnds(u: uPlot): void {
    if (!this.stepsPerEpoch) return;
    const { ctx, bbox } = u;
    ctx.save();
    ctx.strokeStyle = '#cbd5e1';
    ctx.lineWidth = devicePixelRatio;
    ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
    for (let epoch = 1; epoch < this.totalEpochs; epoch++) {
      const x = Math.round(u.valToPos(epoch * this.stepsPerEpoch, 'x', true));
      if (x <= bbox.left || x >= bbox.left + bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  }
}
