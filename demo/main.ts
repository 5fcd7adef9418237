// The demo page: wires the controls and views to the training worker (demo/worker.ts), which owns the GPU.
// The page only sends ToWorker messages and renders the FromWorker replies (see demo/protocol.ts).
import type { AdapterDescription } from '../src/gpu/device.js';
import type { BenchRequest, FinishedRun, FromWorker, ToWorker } from './protocol.js';
import type { RunRecipe } from '../src/engine/recipe.js';
import { architecture, defaultInputShape, parametersOf, type Architecture } from '../src/layers/architecture.js';
import { BenchView } from './ui/bench.js';
import { ExperimentsView, listActivations, readExperimentForm } from './ui/experiments.js';
import { TrainingCharts } from './ui/charts.js';
import { renderConfusion } from './ui/confusion.js';
import { byId, el, integer, showFraction } from './ui/dom.js';
import { DrawingPad } from './ui/drawing.js';
import { MAX_TRAIN_SIZE, onFormChange, readForm, readLayers, setFormDisabled } from './ui/form.js';
import { AugmentPreview } from './ui/augmentPreview.js';
import { parseAugmentation, type Augmentation } from '../src/augment/spec.js';
import { renderMisclassified } from './ui/gallery.js';
import { IntervalMeans } from './ui/intervals.js';
import { downloadBytes, readFileBytes } from './ui/modelFile.js';
import { renderModelSummary } from './ui/modelSummary.js';
import { PredictionView } from './ui/prediction.js';
import { renderPreview } from './ui/preview.js';
import { ProgressView } from './ui/progress.js';
import { renderWeights } from './ui/weights.js';
import { PredictionRequests } from './predictionRequests.js';
import { canPredict, controlsOf, dataState, isFree, predictionHint, type Mode } from './state.js';

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

/** What the page is doing (demo/state.ts lists every mode and the moves between them). */
let mode: Mode = { name: 'loading' };
/** The training worker, started once by start(). */
let worker: Worker | undefined;
/** Training images the worker has; the form's limit, known once it is ready. */
let trainImages = MAX_TRAIN_SIZE;

// ---- status and mode ----

function setStatus(text: string, tone: 'info' | 'warn' | 'error' = 'info'): void {
  ui.status.textContent = text;
  ui.status.dataset.tone = tone;
}

function enter(next: Mode): void {
  mode = next;
  document.body.dataset.state = dataState(next);
  updateControls();
}

/** Idle again after a request that left the model as it was (a save, a load that failed, a benchmark, experiments). */
function taskEnded(): void {
  if (mode.name === 'idle') enter({ ...mode, task: undefined });
  predictionRequests.pump(); // a digit drawn meanwhile is answered now
}

function updateControls(): void {
  const can = controlsOf(mode);
  ui.train.disabled = !can.train;
  ui.stop.disabled = !can.stop;
  ui.reset.disabled = !can.reset;
  ui.resume.disabled = !can.resume;
  ui.save.disabled = !can.save;
  ui.modelFile.disabled = !can.modelFile;
  setFormDisabled(!can.form);
  bench.setControls(isFree(mode), can.benching);
  updateExperimentControls(isFree(mode), can.experimenting);
  predictions.setHint(predictionHint(mode));
}

function send(message: ToWorker, transfer: Transferable[] = []): void {
  worker?.postMessage(message, transfer);
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
const predictionRequests = new PredictionRequests(send, () => canPredict(mode));
const augmentPreview = new AugmentPreview(ui.augmentGrid);

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

function requestPrediction(pixels: Uint8Array): void {
  predictions.showInput(pixels);
  predictionRequests.ask(pixels);
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
  const result = readForm(trainImages);
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

ui.augmentPreview.addEventListener('click', () => {
  let augment: Augmentation | undefined;
  try {
    augment = parseAugmentation(ui.augmentRanges.value, 'ranges');
  } catch (e) {
    ui.augmentGrid.replaceChildren(el('p', 'warn', `Distortions: ${(e as Error).message}`));
    return;
  }
  augmentPreview.next(augment, Number(ui.seed.value) >>> 0);
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
  ui.resume.hidden = true;
  predictionRequests.drop(); // the worker replaces its model when a run starts
  predictions.clear();
  clearResults();
  charts.reset(config.epochs);
  intervals.reset();
  progress.start(config.epochs);
  ui.modelInfo.textContent = `Training a ${describeModel(runArchitecture(config))} on ${integer(config.limit!)} images.`;
  setStatus(`Training: ${config.optimizer.kind}, learning rate ${config.optimizer.lr}, batch ${config.batchSize}, ${config.epochs} epoch${config.epochs > 1 ? 's' : ''}…`);
  enter({ name: 'training', progress: { run: config, stepsPerEpoch: 0 } });
  predictionRequests.whenModelFree({ type: 'train', config });
});

// After a lost device the worker keeps the run's last epoch: Resume goes on from it on a new device.
ui.resume.addEventListener('click', () => {
  if (mode.name !== 'idle' || !mode.interrupted) return;
  ui.resume.hidden = true;
  progress.resume();
  setStatus('Opening a new GPU device to go on training…');
  enter({ name: 'training', progress: mode.interrupted });
  send({ type: 'resume' });
});

ui.stop.addEventListener('click', () => {
  if (mode.name !== 'training') return;
  enter({ ...mode, ending: 'stop' });
  setStatus('Stopping after the current step, then testing the model…');
  send({ type: 'stop' });
});

ui.reset.addEventListener('click', () => {
  if (mode.name === 'training') {
    enter({ ...mode, ending: 'reset' });
    setStatus('Stopping and discarding the model…');
  } else if (mode.name === 'idle') {
    enter({ ...mode, task: 'resetting' });
    setStatus('Discarding the model…');
  }
  predictionRequests.whenModelFree({ type: 'reset' });
});

ui.save.addEventListener('click', () => {
  if (mode.name !== 'idle') return;
  enter({ ...mode, task: 'saving' });
  setStatus('Preparing the model file…');
  send({ type: 'save' });
});

ui.modelFile.addEventListener('change', async () => {
  const file = ui.modelFile.files?.[0];
  ui.modelFile.value = ''; // choosing the same file again should load it again
  if (!file || mode.name !== 'idle') return;
  enter({ ...mode, task: 'loadingFile' });
  setStatus(`Loading ${file.name} and testing it on 10,000 images…`);
  try {
    const bytes = await readFileBytes(file);
    predictionRequests.whenModelFree({ type: 'load', bytes, name: file.name }, [bytes.buffer]);
  } catch (e) {
    taskEnded();
    setStatus(`Could not read ${file.name}: ${(e as Error).message}`, 'warn');
    console.warn(e);
  }
});

function startBench(request: BenchRequest): void {
  if (mode.name !== 'idle') return;
  bench.start(request);
  setStatus(`Benchmarking at batch ${request.batchSize}${request.quick ? ' (quick)' : ''}: training waits until it ends. Results appear in the Bench panel.`);
  enter({ ...mode, task: 'benching' });
  // After an outstanding prediction, so its GPU work stays out of the first timings.
  predictionRequests.whenModelFree({ type: 'bench', ...request });
}

byId('clear-drawing').addEventListener('click', () => {
  pad.clear();
  predictionRequests.drop();
  predictions.clear();
});

// ---- experiments ----

const experiments = new ExperimentsView();
listActivations();

function updateExperimentControls(free: boolean, experimenting: boolean): void {
  const empty = experiments.queue.length === 0;
  byId<HTMLButtonElement>('exp-add').disabled = experimenting;
  byId<HTMLButtonElement>('exp-run').disabled = !free || empty;
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
  if (mode.name !== 'idle') return;
  experiments.status = 'running';
  experiments.begin();
  byId('exp-progress').textContent = `Starting ${experiments.queue.length} runs on ${integer(Math.min(trainSize, trainImages))} training images…`;
  send({ type: 'experiments', configs: [...experiments.queue], trainSize });
  enter({ ...mode, task: 'experimenting' });
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
  experiments.status = status;
  byId('exp-progress').textContent = text;
  taskEnded();
}

// ---- worker messages ----

function onMessage(message: FromWorker): void {
  switch (message.type) {
    case 'ready': {
      ui.adapter.textContent = describeAdapter(message.adapter);
      trainImages = message.train;
      ui.trainSize.max = String(message.train);
      setStatus(
        `Ready. MNIST loaded: ${integer(message.train)} training, ${integer(message.validation)} validation and ` +
          `${integer(message.test)} test images. Press Train.`,
      );
      renderPreview(ui.preview, message.preview);
      augmentPreview.setDigits(message.preview);
      ui.augmentPreview.disabled = false;
      enter({ name: 'idle', model: false });
      return;
    }
    case 'firstStep':
      progress.firstStepDone(message.ms);
      return;
    case 'step': {
      if (mode.name === 'training' && message.stepsPerEpoch !== mode.progress.stepsPerEpoch) {
        mode.progress.stepsPerEpoch = message.stepsPerEpoch;
        charts.setStepsPerEpoch(message.stepsPerEpoch);
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
      setStatus(`Epoch ${message.epoch} done: validation accuracy ${(message.valAccuracy * 100).toFixed(2)}%.${mode.name === 'training' && mode.ending ? '' : ' Training…'}`);
      return;
    case 'done': {
      progress.finish(message.stopped ? 'stopped early' : 'finished');
      renderResults(message);
      setStatus(`${message.stopped ? 'Stopped' : 'Done'}. Test accuracy ${(message.testAccuracy * 100).toFixed(2)}% (test loss ${message.testLoss.toFixed(4)}). Now draw a digit.`);
      if (mode.name === 'training') ui.modelInfo.textContent = `Trained ${describeModel(runArchitecture(mode.progress.run))}.`;
      enter({ name: 'idle', model: true });
      predictCurrentDrawing();
      return;
    }
    case 'loaded': {
      charts.reset();
      progress.reset();
      progress.finish('loaded from a file (no training history)');
      renderResults(message);
      ui.modelInfo.textContent = `Loaded ${message.name}: ${message.architecture}.`;
      setStatus(`Loaded ${message.name}. Test accuracy ${(message.testAccuracy * 100).toFixed(2)}%.`);
      // A run a lost device interrupted stays resumable, as the worker keeps its checkpoint.
      enter({ name: 'idle', model: true, interrupted: mode.name === 'idle' ? mode.interrupted : undefined });
      predictCurrentDrawing();
      return;
    }
    case 'deviceLost':
      progress.finish('interrupted: the GPU device was lost');
      setStatus(`Training stopped: ${message.message}. ${message.epochsDone ? `The ${message.epochsDone} finished epoch${message.epochsDone > 1 ? 's are' : ' is'} kept;` : 'No epoch had finished;'} press Resume training to go on with a new GPU device.`, 'warn');
      ui.resume.hidden = false;
      enter({ name: 'idle', model: false, interrupted: mode.name === 'training' ? mode.progress : undefined });
      return;
    case 'resumed':
      ui.adapter.textContent = describeAdapter(message.adapter);
      setStatus(`Resumed on a new GPU device from ${message.epochsDone ? `epoch ${message.epochsDone}` : 'the start'}: training…`);
      return;
    case 'reset':
      ui.resume.hidden = true;
      predictionRequests.drop();
      charts.reset();
      progress.reset();
      clearResults();
      predictions.clear();
      ui.modelInfo.textContent = 'No model yet.';
      setStatus('Model discarded. Press Train to start again.');
      enter({ name: 'idle', model: false });
      return;
    case 'prediction':
      // A drawing made before Train or Reset may be answered after it; only show answers from a live model.
      if (canPredict(mode)) predictions.show(message.probabilities);
      predictionRequests.settled();
      return;
    case 'saved':
      downloadBytes(message.bytes);
      setStatus(`Model saved as mnist-mlp.safetensors (${integer(message.bytes.length / 1024)} KiB).`);
      taskEnded();
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
      taskEnded();
      return;
    case 'benchFailed':
      bench.fail(message.message);
      setStatus(`The benchmark failed: ${message.message}`, 'warn');
      taskEnded();
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
  const task = mode.name === 'idle' ? mode.task : undefined;
  if (mode.name === 'loading') {
    setStatus(`WebGPU could not start: ${text}`, 'error');
    showNotice('WebGPU could not start here', text);
    enter({ name: 'error' });
  } else if (task === 'saving') {
    setStatus(`Could not save the model: ${text}`, 'warn');
    taskEnded();
  } else if (predictionRequests.busy) {
    // Checked before load and training: those wait for the outstanding prediction, so it failed first.
    setStatus(`Prediction failed: ${text}`, 'warn');
    predictionRequests.settled();
  } else if (task === 'loadingFile') {
    setStatus(`Could not load the model: ${text}`, 'warn');
    taskEnded();
  } else if (mode.name === 'training') {
    progress.finish('failed');
    setStatus(`Training failed: ${text}`, 'warn');
    enter({ name: 'idle', model: false });
  } else {
    setStatus(text, 'warn');
  }
}

/** A crash the worker did not report itself: the engine is gone, so the page says so and stops. */
function onWorkerCrash(text: string): void {
  console.error(`training worker failed: ${text}`);
  setStatus(`The training worker stopped unexpectedly (${text}). Reload the page to start again.`, 'error');
  progress.finish('failed');
  if (mode.name === 'idle' && mode.task === 'benching') bench.fail('the worker stopped');
  if (mode.name === 'loading') showNotice('The demo could not start', text);
  enter({ name: 'error' });
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
    enter({ name: 'unsupported' });
    return;
  }
  enter({ name: 'loading' });
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
  const form = readForm(trainImages);
  send({ type: 'init', warm: form.ok ? form.config : undefined });
}

start();
