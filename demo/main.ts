// The demo page: wires the controls and views to the training worker (demo/worker.ts), which owns the GPU.
// The page only sends ToWorker messages and renders the FromWorker replies (see demo/protocol.ts).
import type { AdapterDescription } from '../src/gpu/device.js';
import type { BenchRequest, FinishedRun, FromWorker, LabelledDigit, ToWorker } from './protocol.js';
import type { RunRecipe } from '../src/engine/recipe.js';
import { architecture, defaultInputShape, parametersOf, type Architecture } from '../src/layers/architecture.js';
import { BenchView } from './ui/bench.js';
import { ExperimentsView, readExperimentForm } from './ui/experiments.js';
import { TrainingCharts } from './ui/charts.js';
import { renderConfusion } from './ui/confusion.js';
import { byId, el, integer, showFraction } from './ui/dom.js';
import { DrawingPad } from './ui/drawing.js';
import { MAX_TRAIN_SIZE, onFormChange, readForm, readLayers, setFormDisabled } from './ui/form.js';
import { renderAugmentPreview } from './ui/augmentPreview.js';
import { parseAugmentation, type Augmentation } from '../src/augment/spec.js';
import { renderMisclassified } from './ui/gallery.js';
import { IntervalMeans } from './ui/intervals.js';
import { downloadBytes, readFileBytes } from './ui/modelFile.js';
import { renderModelSummary } from './ui/modelSummary.js';
import { PredictionView } from './ui/prediction.js';
import { renderPreview } from './ui/preview.js';
import { ProgressView } from './ui/progress.js';
import { renderWeights } from './ui/weights.js';

type State = 'loading' | 'ready' | 'training' | 'done' | 'error' | 'unsupported';

const ui = {
  status: byId('status'),
  adapter: byId('adapter'),
  app: byId('app'),
  missing: byId('webgpu-missing'),
  missingTitle: byId('webgpu-missing-title'),
  missingDetail: byId('webgpu-missing-detail'),
  form: byId<HTMLFormElement>('train-form'),
  formError: byId('form-error'),
  trainSize: byId<HTMLInputElement>('train-size'),
  train: byId<HTMLButtonElement>('train'),
  stop: byId<HTMLButtonElement>('stop'),
  reset: byId<HTMLButtonElement>('reset'),
  resume: byId<HTMLButtonElement>('resume'),
  save: byId<HTMLButtonElement>('save-model'),
  modelFile: byId<HTMLInputElement>('model-file'),
  hidden: byId<HTMLInputElement>('hidden'),
  network: byId<HTMLSelectElement>('network'),
  modelSummary: byId('model-summary'),
  preview: byId('digit-preview'),
  augmentPreview: byId<HTMLButtonElement>('augment-preview'),
  augmentGrid: byId('augment-grid'),
  augmentRanges: byId<HTMLInputElement>('augment'),
  seed: byId<HTMLInputElement>('seed'),
  modelInfo: byId('model-info'),
  testAccuracy: byId('test-accuracy'),
  confusion: byId('confusion'),
  misclassified: byId('misclassified'),
  weights: byId('weights'),
};

let state: State = 'loading';
let worker: Worker | undefined;
let maxTrainSize = MAX_TRAIN_SIZE;
/** The worker holds a finished (trained or loaded) model that can predict and be saved. */
let hasModel = false;
let loadingFile = false;
let saving = false;
let stopping = false;
let resetting = false;
/** The Bench panel's run is in flight: like loading a file, it holds the worker without changing the state. */
let benching = false;
let experimenting = false;
let runConfig: RunRecipe | undefined;
let stepsPerEpoch = 0;

// ---- status and state ----

function setStatus(text: string, tone: 'info' | 'warn' | 'error' = 'info'): void {
  ui.status.textContent = text;
  ui.status.dataset.tone = tone;
}

function setState(next: State): void {
  state = next;
  document.body.dataset.state = next;
  updateControls();
}

function updateControls(): void {
  const idle = (state === 'ready' || state === 'done') && !loadingFile && !resetting && !benching && !experimenting;
  ui.train.disabled = !idle;
  ui.stop.disabled = state !== 'training' || stopping;
  ui.reset.disabled = !(idle || state === 'training');
  ui.resume.disabled = !idle;
  ui.save.disabled = !(idle && hasModel) || saving;
  ui.modelFile.disabled = !idle;
  setFormDisabled(!(idle || state === 'loading'));
  bench.setControls(idle, benching);
  updateExperimentControls(idle);
  predictions.setHint(
    state === 'training' ? 'Predictions start when training ends.'
      : benching ? 'Predictions resume when the benchmark ends.'
      : hasModel ? 'Draw a digit big and centred, as on paper.'
      : 'Train or load a model first; then draw a digit here.',
  );
}

function send(message: ToWorker, transfer: Transferable[] = []): void {
  worker?.postMessage(message, transfer);
}

/** Requests that replace or drop the worker's model wait for an outstanding prediction, which uses it. */
let afterPrediction: [ToWorker, Transferable[]][] = [];

function sendWhenModelFree(message: ToWorker, transfer: Transferable[] = []): void {
  if (predicting) afterPrediction.push([message, transfer]);
  else send(message, transfer);
}

/** Replaces the app with the "what to do" notice (no WebGPU, or it failed to start). */
function showNotice(title: string, detail: string): void {
  ui.missingTitle.textContent = title;
  ui.missingDetail.textContent = detail;
  ui.missing.hidden = false;
  ui.app.hidden = true;
}

function describeAdapter(a: AdapterDescription): string {
  const name = [a.vendor, a.architecture, a.device || a.description].filter(Boolean).join(' / ');
  return a.isFallbackAdapter ? `${name} — fallback (software) adapter, expect slow training` : name;
}

// ---- views ----

const charts = new TrainingCharts(byId('loss-chart'), byId('accuracy-chart'), byId('val-chart'));
const intervals = new IntervalMeans();
const progress = new ProgressView();
const predictions = new PredictionView(byId('prediction'), byId('predicted-digit'), byId<HTMLCanvasElement>('model-input'), byId('predict-hint'));
const pad = new DrawingPad(byId<HTMLCanvasElement>('draw'), requestPrediction);
const bench = new BenchView(startBench);

const placeholder = () => el('p', 'placeholder', 'Appears after training or loading a model.');

function clearResults(): void {
  showFraction(ui.testAccuracy, undefined);
  ui.confusion.replaceChildren(placeholder());
  ui.misclassified.replaceChildren(placeholder());
  ui.weights.replaceChildren(placeholder());
}

function renderResults(run: FinishedRun): void {
  showFraction(ui.testAccuracy, run.testAccuracy);
  renderConfusion(ui.confusion, run.confusion);
  let correct = 0;
  for (let d = 0; d < 10; d++) correct += run.confusion[d * 11];
  const errors = run.confusion.reduce((a, b) => a + b, 0) - correct;
  renderMisclassified(ui.misclassified, run.misclassified, errors, (digit) => {
    // Show the test image on the pad and ask about its exact pixels (a copy: sending transfers the buffer).
    pad.showDigit(digit.pixels);
    requestPrediction(digit.pixels.slice());
  });
  renderWeights(ui.weights, run.firstLayer, run.hidden, run.tileSide);
}

/** '784 → linear:500,relu,linear:10 (397,510 parameters)' */
const describeModel = (a: Architecture) => `${a.name} (${integer(parametersOf(a).reduce((n, p) => n + p.shape.reduce((x, y) => x * y, 1), 0))} parameters)`;

// ---- predictions: one request in flight, the newest drawing waits ----

let pendingPixels: Uint8Array | undefined;
let predicting = false;

function canPredict(): boolean {
  // The worker answers nothing when it has no model, so never ask while one is being replaced or dropped.
  // Nor while benchmarking: a prediction's GPU work would land inside the timings.
  return hasModel && state !== 'training' && !loadingFile && !resetting && !benching;
}

function requestPrediction(pixels: Uint8Array): void {
  predictions.showInput(pixels);
  pendingPixels = pixels;
  pumpPredictions();
}

/** A prediction answered (or failed): send what waited for it, then the newest drawing. */
function predictionSettled(): void {
  predicting = false;
  const waiting = afterPrediction;
  afterPrediction = [];
  for (const [message, transfer] of waiting) send(message, transfer);
  pumpPredictions();
}

function pumpPredictions(): void {
  if (predicting || !pendingPixels || !canPredict()) return;
  const pixels = pendingPixels;
  pendingPixels = undefined;
  predicting = true;
  send({ type: 'predict', pixels }, [pixels.buffer]);
}

/** After a model arrives, answer for whatever is already on the pad. */
function predictCurrentDrawing(): void {
  const digit = pad.digit();
  if (digit) requestPrediction(digit);
}

// ---- controls ----

/** Widths through the run's linear layers, inputs first. */
const runArchitecture = (run: RunRecipe) => architecture(run.layers, defaultInputShape(run.layers));

/** The settings as a run, or undefined after listing what is wrong next to the controls. */
function checkForm(): RunRecipe | undefined {
  const result = readForm(maxTrainSize);
  if (result.ok) {
    ui.formError.hidden = true;
    ui.formError.replaceChildren();
    return result.config;
  }
  const list = el('ul');
  for (const problem of result.problems) list.append(el('li', '', problem.message));
  ui.formError.replaceChildren(list);
  ui.formError.hidden = false;
  return undefined;
}

const showModelSummary = () => {
  ui.hidden.disabled = ui.network.value === 'cnn';
  renderModelSummary(ui.modelSummary, readLayers());
};
ui.hidden.addEventListener('input', showModelSummary);
ui.network.addEventListener('change', showModelSummary);
showModelSummary();

// Each click draws the same digits as a later training step would: a new step, new distortions.
let previewDigits: LabelledDigit[] = [];
let previewStep = 0;
ui.augmentPreview.addEventListener('click', () => {
  let augment: Augmentation | undefined;
  try {
    augment = parseAugmentation(ui.augmentRanges.value, 'ranges');
  } catch (e) {
    ui.augmentGrid.replaceChildren(el('p', 'warn', `Distortions: ${(e as Error).message}`));
    return;
  }
  renderAugmentPreview(ui.augmentGrid, previewDigits, augment, Number(ui.seed.value) >>> 0, ++previewStep);
});

onFormChange(() => {
  // Only re-check once a problem is on show, so the form doesn't scold while it is being filled in.
  if (!ui.formError.hidden) checkForm();
});

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (ui.train.disabled) return;
  const config = checkForm();
  if (!config) {
    setStatus('Fix the highlighted settings to train.', 'warn');
    return;
  }
  runConfig = config;
  ui.resume.hidden = true;
  stepsPerEpoch = 0;
  stopping = false;
  hasModel = false; // the worker replaces its model when a run starts
  pendingPixels = undefined;
  predictions.clear();
  clearResults();
  charts.reset(runConfig.epochs);
  intervals.reset();
  progress.start(runConfig.epochs);
  ui.modelInfo.textContent = `Training a ${describeModel(runArchitecture(runConfig))} on ${integer(runConfig.limit!)} images.`;
  setStatus(`Training: ${runConfig.optimizer.kind}, learning rate ${runConfig.optimizer.lr}, batch ${runConfig.batchSize}, ${runConfig.epochs} epoch${runConfig.epochs > 1 ? 's' : ''}…`);
  setState('training');
  sendWhenModelFree({ type: 'train', config: runConfig });
});

// After a lost device the worker keeps the run's last epoch: Resume goes on from it on a new device.
ui.resume.addEventListener('click', () => {
  ui.resume.hidden = true;
  progress.resume();
  setStatus('Opening a new GPU device to go on training…');
  setState('training');
  send({ type: 'resume' });
});

ui.stop.addEventListener('click', () => {
  stopping = true;
  updateControls();
  setStatus('Stopping after the current step, then testing the model…');
  send({ type: 'stop' });
});

ui.reset.addEventListener('click', () => {
  stopping = true;
  resetting = true;
  updateControls();
  setStatus(state === 'training' ? 'Stopping and discarding the model…' : 'Discarding the model…');
  sendWhenModelFree({ type: 'reset' });
});

ui.save.addEventListener('click', () => {
  saving = true;
  updateControls();
  setStatus('Preparing the model file…');
  send({ type: 'save' });
});

ui.modelFile.addEventListener('change', async () => {
  const file = ui.modelFile.files?.[0];
  ui.modelFile.value = ''; // choosing the same file again should load it again
  if (!file) return;
  loadingFile = true;
  updateControls();
  setStatus(`Loading ${file.name} and testing it on 10,000 images…`);
  try {
    const bytes = await readFileBytes(file);
    sendWhenModelFree({ type: 'load', bytes, name: file.name }, [bytes.buffer]);
  } catch (e) {
    loadingFile = false;
    updateControls();
    setStatus(`Could not read ${file.name}: ${(e as Error).message}`, 'warn');
    console.warn(e);
  }
});

function startBench(request: BenchRequest): void {
  benching = true;
  bench.start(request);
  setStatus(`Benchmarking at batch ${request.batchSize}${request.quick ? ' (quick)' : ''}: training waits until it ends. Results appear in the Bench panel.`);
  updateControls();
  // After an outstanding prediction, so its GPU work stays out of the first timings.
  sendWhenModelFree({ type: 'bench', ...request });
}

function benchEnded(): void {
  benching = false;
  updateControls();
  pumpPredictions(); // a digit drawn during the run is answered now
}

byId('clear-drawing').addEventListener('click', () => {
  pad.clear();
  pendingPixels = undefined;
  predictions.clear();
});

// ---- experiments ----

const experiments = new ExperimentsView();

function updateExperimentControls(idle: boolean): void {
  const empty = experiments.queue.length === 0;
  byId<HTMLButtonElement>('exp-add').disabled = experimenting;
  byId<HTMLButtonElement>('exp-run').disabled = !idle || empty;
  byId<HTMLButtonElement>('exp-stop').disabled = !experimenting;
  byId<HTMLButtonElement>('exp-clear').disabled = experimenting || empty;
}

byId('experiments-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const error = byId('exp-error');
  try {
    experiments.add(readExperimentForm().config);
    error.hidden = true;
  } catch (e) {
    error.textContent = (e as Error).message;
    error.hidden = false;
  }
  updateControls();
});

byId('exp-run').addEventListener('click', () => {
  const error = byId('exp-error');
  let trainSize: number;
  try {
    trainSize = readExperimentForm().trainSize;
  } catch (e) {
    error.textContent = (e as Error).message;
    error.hidden = false;
    return;
  }
  experimenting = true;
  experiments.status = 'running';
  experiments.begin();
  byId('exp-progress').textContent = `Starting ${experiments.queue.length} runs on ${integer(Math.min(trainSize, maxTrainSize))} training images…`;
  send({ type: 'experiments', configs: [...experiments.queue], trainSize });
  updateControls();
});

byId('exp-stop').addEventListener('click', () => {
  send({ type: 'stop' });
  byId<HTMLButtonElement>('exp-stop').disabled = true;
});

byId('exp-clear').addEventListener('click', () => {
  experiments.clear();
  experiments.status = 'idle';
  byId('exp-progress').textContent = 'Not run yet.';
  updateControls();
});

function experimentsEnded(status: 'done' | 'error', text: string): void {
  experimenting = false;
  experiments.status = status;
  byId('exp-progress').textContent = text;
  updateControls();
  pumpPredictions();
}

// ---- worker messages ----

function onMessage(message: FromWorker): void {
  switch (message.type) {
    case 'ready': {
      ui.adapter.textContent = describeAdapter(message.adapter);
      maxTrainSize = message.train;
      ui.trainSize.max = String(message.train);
      setStatus(
        `Ready. MNIST loaded: ${integer(message.train)} training, ${integer(message.validation)} validation and ` +
          `${integer(message.test)} test images. Press Train.`,
      );
      renderPreview(ui.preview, message.preview);
      previewDigits = message.preview;
      ui.augmentPreview.disabled = false;
      setState('ready');
      return;
    }
    case 'firstStep':
      progress.firstStepDone(message.ms);
      return;
    case 'step': {
      if (message.stepsPerEpoch !== stepsPerEpoch) {
        stepsPerEpoch = message.stepsPerEpoch;
        charts.setStepsPerEpoch(stepsPerEpoch);
      }
      if (message.loss !== undefined && message.accuracy !== undefined) {
        charts.addInterval(intervals.add({ ...message, loss: message.loss, accuracy: message.accuracy }));
      }
      progress.step(message.epoch, message.step, message.stepsPerEpoch, message.samplesPerSecond);
      return;
    }
    case 'epoch':
      charts.addEpoch(message.epoch, message.trainLoss, message.valLoss, message.valAccuracy);
      progress.epoch(message);
      setStatus(`Epoch ${message.epoch} done: validation accuracy ${(message.valAccuracy * 100).toFixed(2)}%.${stopping ? '' : ' Training…'}`);
      return;
    case 'done': {
      progress.finish(message.stopped ? 'stopped early' : 'finished');
      renderResults(message);
      hasModel = true;
      stopping = false;
      setStatus(`${message.stopped ? 'Stopped' : 'Done'}. Test accuracy ${(message.testAccuracy * 100).toFixed(2)}% (test loss ${message.testLoss.toFixed(4)}). Now draw a digit.`);
      if (runConfig) ui.modelInfo.textContent = `Trained ${describeModel(runArchitecture(runConfig))}.`;
      setState('done');
      predictCurrentDrawing();
      return;
    }
    case 'loaded': {
      loadingFile = false;
      charts.reset();
      progress.reset();
      progress.finish('loaded from a file (no training history)');
      renderResults(message);
      hasModel = true;
      ui.modelInfo.textContent = `Loaded ${message.name}: ${message.architecture}.`;
      setStatus(`Loaded ${message.name}. Test accuracy ${(message.testAccuracy * 100).toFixed(2)}%.`);
      setState('done');
      predictCurrentDrawing();
      return;
    }
    case 'deviceLost':
      progress.finish('interrupted: the GPU device was lost');
      stopping = false;
      setStatus(`Training stopped: ${message.message}. ${message.epochsDone ? `The ${message.epochsDone} finished epoch${message.epochsDone > 1 ? 's are' : ' is'} kept;` : 'No epoch had finished;'} press Resume training to go on with a new GPU device.`, 'warn');
      ui.resume.hidden = false;
      setState('ready');
      return;
    case 'resumed':
      ui.adapter.textContent = describeAdapter(message.adapter);
      setStatus(`Resumed on a new GPU device from ${message.epochsDone ? `epoch ${message.epochsDone}` : 'the start'}: training…`);
      return;
    case 'reset':
      ui.resume.hidden = true;
      hasModel = false;
      stopping = false;
      resetting = false;
      pendingPixels = undefined;
      charts.reset();
      progress.reset();
      clearResults();
      predictions.clear();
      ui.modelInfo.textContent = 'No model yet.';
      setStatus('Model discarded. Press Train to start again.');
      setState('ready');
      return;
    case 'prediction':
      // A drawing made before Train or Reset may be answered after it; only show answers from a live model.
      if (canPredict()) predictions.show(message.probabilities);
      predictionSettled();
      return;
    case 'saved':
      saving = false;
      downloadBytes(message.bytes);
      setStatus(`Model saved as mnist-mlp.safetensors (${integer(message.bytes.length / 1024)} KiB).`);
      updateControls();
      return;
    case 'benchStep':
      bench.showStep(message.sizes, message.breakdown);
      return;
    case 'benchProduct':
      bench.startProduct(message);
      return;
    case 'benchVariant':
      bench.addVariant(message.product, message.row);
      return;
    case 'benchDone':
      bench.finish(message.seconds);
      setStatus(`Benchmark done in ${message.seconds.toFixed(0)} s; the results are in the Bench panel.`);
      benchEnded();
      return;
    case 'benchFailed':
      bench.fail(message.message);
      setStatus(`The benchmark failed: ${message.message}`, 'warn');
      benchEnded();
      return;
    case 'experimentStart':
      experiments.running(message.index);
      byId('exp-progress').textContent = `Training ${message.index + 1} of ${experiments.queue.length}…`;
      return;
    case 'experimentEpoch':
      experiments.epoch(message.index, message.epoch, message.valAccuracy);
      return;
    case 'experimentDone':
      experiments.finished(message.index, message.result);
      return;
    case 'experimentsDone':
      experimentsEnded('done', message.stopped ? 'Stopped; the table has the runs that finished.' : 'Done: the table ranks the runs by validation accuracy.');
      return;
    case 'experimentsFailed':
      experimentsEnded('error', `The experiments failed: ${message.message}`);
      return;
    case 'error':
      onWorkerError(message.message);
      return;
  }
}

/** Errors carry no request id; the page has at most one request of each kind outstanding, so it can tell. */
function onWorkerError(text: string): void {
  console.warn(`worker: ${text}`);
  if (state === 'loading') {
    setStatus(`WebGPU could not start: ${text}`, 'error');
    showNotice('WebGPU could not start here', text);
    setState('error');
  } else if (saving) {
    saving = false;
    setStatus(`Could not save the model: ${text}`, 'warn');
    updateControls();
  } else if (predicting) {
    // Checked before load and training: those wait for the outstanding prediction, so it failed first.
    setStatus(`Prediction failed: ${text}`, 'warn');
    predictionSettled();
  } else if (loadingFile) {
    loadingFile = false;
    setStatus(`Could not load the model: ${text}`, 'warn');
    updateControls();
    pumpPredictions();
  } else if (state === 'training') {
    stopping = false;
    progress.finish('failed');
    setStatus(`Training failed: ${text}`, 'warn');
    setState('ready');
  } else {
    setStatus(text, 'warn');
  }
}

/** A crash the worker did not report itself: the engine is gone, so the page says so and stops. */
function onWorkerCrash(text: string): void {
  console.error(`training worker failed: ${text}`);
  setStatus(`The training worker stopped unexpectedly (${text}). Reload the page to start again.`, 'error');
  progress.finish('failed');
  if (benching) {
    benching = false;
    bench.fail('the worker stopped');
  }
  if (state === 'loading') showNotice('The demo could not start', text);
  setState('error');
}

// ---- start ----

/** For tests: `loseDevice` makes the worker destroy its GPU device (as WEBGL_lose_context does for WebGL), to
 *  test recovery; `trainingCurve` returns the loss chart's intervals, to check them against the epoch means. */
(window as unknown as { webgpuDemo: object }).webgpuDemo = {
  loseDevice: () => send({ type: 'loseDevice' }),
  trainingCurve: () => charts.curve(),
};

function start(): void {
  if (!('gpu' in navigator) || !navigator.gpu) {
    setStatus('WebGPU is not available in this browser.', 'error');
    showNotice("This browser can't run WebGPU here", window.isSecureContext
      ? 'This browser does not offer WebGPU (navigator.gpu is missing).'
      : 'This page is not served over https or from localhost, so the browser hides WebGPU from it.');
    ui.adapter.textContent = 'none';
    setState('unsupported');
    return;
  }
  setState('loading');
  setStatus('Opening the GPU and loading MNIST (about 50 MB)…');
  try {
    worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  } catch (e) {
    onWorkerCrash((e as Error).message);
    return;
  }
  worker.onmessage = (event: MessageEvent<FromWorker>) => onMessage(event.data);
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault(); // reported here instead of as an uncaught error
    onWorkerCrash(event.message || 'the worker script failed to load');
  };
  worker.onmessageerror = () => onWorkerCrash('a message from the worker could not be read');
  // The form's recipe goes along: its kernels compile while MNIST loads, so Train starts at once.
  const form = readForm(maxTrainSize);
  send({ type: 'init', warm: form.ok ? form.config : undefined });
}

start();
