// Live training charts (uPlot): the running training loss per step, and per-epoch losses and validation accuracy.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const HEIGHT = 220;
const COLORS = { train: '#2563eb', val: '#dc2626', accuracy: '#059669' };

/** Keeps a chart as wide as its container (the layout is fluid). */
function fitWidth(chart: uPlot, container: HTMLElement): void {
  new ResizeObserver(() => {
    const width = Math.floor(container.clientWidth);
    if (width > 0 && width !== chart.width) chart.setSize({ width, height: HEIGHT });
  }).observe(container);
}

export class TrainingCharts {
  private readonly loss: uPlot;
  private readonly val: uPlot;
  private lossData: [number[], number[]] = [[], []];
  private valData: [number[], number[], number[], number[]] = [[], [], [], []];
  /** The planned run, so the x axes span it from the first point on. */
  private totalSteps = 1;
  private totalEpochs = 1;

  constructor(lossContainer: HTMLElement, valContainer: HTMLElement) {
    const width = Math.max(300, lossContainer.clientWidth);
    this.loss = new uPlot(
      {
        width,
        height: HEIGHT,
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false, range: (_u, min, max) => [0, Math.max(max, this.totalSteps, 1)] } },
        axes: [{ label: 'step' }, { label: 'loss', size: 56 }],
        series: [
          { label: 'step' },
          { label: 'training loss', stroke: COLORS.train, width: 2, value: (_u, v) => (v == null ? '–' : v.toFixed(4)) },
        ],
      },
      this.lossData,
      lossContainer,
    );
    this.val = new uPlot(
      {
        width,
        height: HEIGHT,
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
          { label: 'train loss', scale: 'loss', stroke: COLORS.train, width: 2, points: { show: true, size: 7 }, value: (_u, v) => (v == null ? '–' : v.toFixed(4)) },
          { label: 'val loss', scale: 'loss', stroke: COLORS.val, width: 2, points: { show: true, size: 7 }, value: (_u, v) => (v == null ? '–' : v.toFixed(4)) },
          { label: 'val accuracy', scale: 'accuracy', stroke: COLORS.accuracy, width: 2, dash: [6, 4], points: { show: true, size: 7 }, value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)}%`) },
        ],
      },
      this.valData,
      valContainer,
    );
    fitWidth(this.loss, lossContainer);
    fitWidth(this.val, valContainer);
  }

  /** Empties both charts for a new run of `epochs` epochs of `stepsPerEpoch` steps (0 when not yet known). */
  reset(epochs = 1, stepsPerEpoch = 0): void {
    this.totalEpochs = epochs;
    this.totalSteps = epochs * stepsPerEpoch;
    this.lossData = [[], []];
    this.valData = [[], [], [], []];
    this.loss.setData(this.lossData);
    this.val.setData(this.valData);
  }

  setStepsPerEpoch(stepsPerEpoch: number): void {
    this.totalSteps = this.totalEpochs * stepsPerEpoch;
  }

  addLoss(globalStep: number, loss: number): void {
    this.lossData[0].push(globalStep);
    this.lossData[1].push(loss);
    this.loss.setData(this.lossData);
  }

  addEpoch(epoch: number, trainLoss: number, valLoss: number, valAccuracy: number): void {
    this.valData[0].push(epoch);
    this.valData[1].push(trainLoss);
    this.valData[2].push(valLoss);
    this.valData[3].push(valAccuracy * 100);
    this.val.setData(this.valData);
  }
}
