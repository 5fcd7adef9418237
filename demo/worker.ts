// The demo's training worker: opens WebGPU, loads MNIST from the same origin as raw IDX bytes, and runs
// the engine (and the Bench panel's benchmark) on request. All GPU work happens here.
import { matmulFamily, matmulUnsupported, matmulVariantName, type MatmulForm, type MatmulShape } from '../shaders/matmul.js';
import { compareMatmulVariants, matmulCandidates, quickMatmulCandidates } from '../src/tuning/matmulVariants.js';
import { stepBreakdown } from '../src/bench/step.js';
import { openBrowserDevice, type OpenedDevice } from '../src/gpu/device.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { DeviceLostError } from '../src/errors.js';
import type { Dataset } from '../src/data/dataset.js';
import { parseMnist, splitMnist, type MnistSplits } from '../src/data/mnist.js';
import { defaultVariantsFor } from '../src/gpu/variants.js';
import { fetchMnistBytes } from '../src/data/mnistFetch.js';
import { sliceDataset } from '../src/data/dataset.js';
import type { BenchRequest, FinishedRun, FromWorker, LabelledDigit, Misclassified, ToWorker } from './protocol.js';
import type { RunRecipe } from '../src/engine/recipe.js';
import { runExperiment } from '../src/experiments/run.js';
import type { ExperimentConfig } from '../src/experiments/config.js';
import { mlpLayerSpecs } from '../src/layers/index.js';

const MAX_MISCLASSIFIED = 48;
/** Training images shown on the page before training, so the reader sees what the network learns from. */
const PREVIEW_DIGITS = 8;

let gpu: OpenedDevice | undefined;
let data: MnistSplits | undefined;
let model: Model | undefined;
/** Aborted by Stop (and by Reset during a run); a new one for each run. */
let stop = new AbortController();
/** The long job running, if any: one at a time, since each would skew or fight over the other's GPU time. */
let job: 'train' | 'load' | 'bench' | 'experiments' | undefined;
let resetAfterRun = false;

const post = (message: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);

/** Test accuracy, confusion matrix, the most confident mistakes and first-layer weights of the current model. */
async function summarize(m: Model, stopped: boolean): Promise<FinishedRun> {
  const test = data!.test;
  const evaluation = await m.evaluate(test);
  const probabilities = await m.predict(test.images, { count: test.count });
  const confusion = new Array(100).fill(0);
  const mistakes: Omit<Misclassified, 'pixels'>[] = [];
  for (let i = 0; i < test.count; i++) {
    const row = probabilities.subarray(i * 10, i * 10 + 10);
    let predicted = 0;
    for (let c = 1; c < 10; c++) if (row[c] > row[predicted]) predicted = c;
    const label = test.labels[i];
    confusion[label * 10 + predicted]++;
    if (predicted !== label) mistakes.push({ index: i, predicted, label, confidence: row[predicted] });
  }
  // The confident mistakes say the most about the model (and about mislabelled test digits); the page shows those.
  const misclassified = mistakes
    .sort((a, b) => b.confidence - a.confidence)
    .slice(0, MAX_MISCLASSIFIED)
    .map((d) => ({ ...d, pixels: test.images.slice(d.index * 784, (d.index + 1) * 784) }));
  // The first layer's weight as PyTorch holds it: linear [hidden × 784], conv2d [filters × 1 × k × k].
  const { tensors } = await m.exportState();
  const first = m.architecture.layers[0];
  const weight = tensors.get(`${first.index}.weight`)!;
  return {
    stopped, testAccuracy: evaluation.accuracy, testLoss: evaluation.loss, confusion, misclassified,
    firstLayer: weight.data, hidden: weight.shape[0], tileSide: first.spec.kind === 'conv2d' ? first.spec.kernel : 28,
  };
}

/** The run in progress, and its last epoch's full checkpoint: what a lost device resumes from. */
let lastRun: { config: RunRecipe; checkpoint?: Uint8Array; epochs: number } | undefined;

async function train(config: RunRecipe, from?: Uint8Array): Promise<void> {
  const requested = performance.now();
  model?.dispose();
  model = undefined;
  const variants = defaultVariantsFor(gpu!.adapterInfo);
  const { layers, seed, pixelMean, pixelStd } = config;
  const m = from ? Model.fromSafetensors(gpu!.device, from, 'last epoch', { variants }) : new Model(gpu!.device, { layers, seed, pixelMean, pixelStd, variants });
  model = m;
  lastRun = { config, checkpoint: from, epochs: m.epochs };
  const trainSet = sliceDataset(data!.train, 0, Math.min(config.limit ?? data!.train.count, data!.train.count), 'train');
  stop = new AbortController();
  try {
    await fitRun(m, trainSet, config, requested);
  } catch (e) {
    if (!(e instanceof DeviceLostError)) throw e;
    model = undefined;
    post({ type: 'deviceLost', message: e.message, epochsDone: lastRun.epochs });
    return;
  }
  if (honourPendingReset()) return;
  post({ type: 'done', ...(await summarize(m, stop.signal.aborted)) });
}

/**
 * One training step of `config`'s model on blank images, then the model is dropped: its pipelines stay in the
 * device's cache, so the run Train starts compiles nothing. Runs while MNIST loads; a failure here is left for
 * that run to report.
 */
async function warmUp(config: RunRecipe): Promise<void> {
  const { layers, seed, pixelMean, pixelStd, batchSize } = config;
  const m = new Model(gpu!.device, { layers, seed, pixelMean, pixelStd, variants: defaultVariantsFor(gpu!.adapterInfo) });
  const blank: Dataset = { name: 'blank', images: new Uint8Array(batchSize * 784), labels: new Uint8Array(batchSize), count: batchSize, features: 784 };
  try {
    await m.fit(blank, { epochs: 1, batchSize, optimizer: config.optimizer, augment: config.augment, progressEvery: 0 });
  } catch {
    // The same recipe fails again, with its message, when Train runs it.
  } finally {
    m.dispose();
  }
}

/** After a lost device: a new device, and the run again from its last checkpoint (or from its start). */
async function resume(): Promise<void> {
  if (!lastRun) throw new Error('nothing to resume: no run was interrupted');
  gpu = await openBrowserDevice();
  const { config, checkpoint, epochs } = lastRun;
  post({ type: 'resumed', epochsDone: epochs, adapter: gpu.adapterInfo });
  return train(config, checkpoint);
}

/** The run's remaining epochs, streaming progress to the page and keeping each epoch's checkpoint. */
function fitRun(m: Model, trainSet: Dataset, config: RunRecipe, requested?: number) {
  let epochStart = performance.now();
  let firstStep = requested !== undefined;
  return m.fit(trainSet, {
    epochs: config.epochs - m.epochs,
    batchSize: config.batchSize,
    optimizer: config.optimizer,
    validation: data!.validation,
    progressEvery: config.progressEvery,
    augment: config.augment,
    signal: stop.signal,
    onStep: (s) => {
      if (firstStep) {
        // Submitted now; done when the queue says so (the start-up figure the page shows).
        firstStep = false;
        void m.device.queue.onSubmittedWorkDone().then(() => post({ type: 'firstStep', ms: performance.now() - requested! }));
      }
      if (s.step === 1) epochStart = performance.now();
      const seconds = (performance.now() - epochStart) / 1000;
      post({
        type: 'step', epoch: s.epoch, step: s.step, stepsPerEpoch: s.stepsPerEpoch, samples: s.samples, loss: s.loss, accuracy: s.accuracy,
        samplesPerSecond: seconds > 0 ? s.samples / seconds : 0,
      });
    },
    onEpoch: async (e) => {
      // One read-back per epoch: the state a lost device resumes from. The page logs only epochs kept so.
      lastRun = { config, checkpoint: await m.toSafetensors({ full: true }), epochs: e.epoch };
      post({
        type: 'epoch', epoch: e.epoch, trainLoss: e.trainLoss, valLoss: e.validation!.loss, valAccuracy: e.validation!.accuracy,
        seconds: e.seconds, samplesPerSecond: e.samplesPerSecond,
      });
    },
  });
}

/** A reset that arrived while a long job owned the model takes effect now; true when it did. */
function honourPendingReset(): boolean {
  if (!resetAfterRun) return false;
  resetAfterRun = false;
  model?.dispose();
  model = undefined;
  post({ type: 'reset' });
  return true;
}

/** The same measurements as `npm run bench` (src/cli/bench.ts), on a fresh model that is not the demo's. */
async function bench({ batchSize, quick }: BenchRequest): Promise<void> {
  const started = performance.now();
  const hidden = quick ? 64 : 500;
  const sizes = [784, hidden, 10];
  const benchModel = new Model(gpu!.device, { layers: mlpLayerSpecs(sizes), seed: 0, variants: defaultVariantsFor(gpu!.adapterInfo) });
  try {
    post({ type: 'benchStep', sizes, breakdown: await stepBreakdown(benchModel, batchSize) });
    // The step's two big products: the batch is M of the forward product and K of the weight gradient.
    const products: { form: MatmulForm; shape: MatmulShape; what: string }[] = [
      { form: 'nn', shape: { M: batchSize, N: hidden, K: 784 }, what: `forward x·W1 [${batchSize}×784]·[784×${hidden}]` },
      { form: 'tn', shape: { M: 784, N: hidden, K: batchSize }, what: `weight gradient xᵀ·dh [784×${batchSize}]·[${batchSize}×${hidden}]` },
    ];
    for (const [index, { form, shape, what }] of products.entries()) {
      const candidates = quick ? quickMatmulCandidates(form) : matmulCandidates(form);
      post({ type: 'benchProduct', index, form, shape, what, variants: candidates.length });
      let baselineMs: number | undefined;
      for (const [i, variant] of candidates.entries()) {
        const skipped = matmulUnsupported(variant, shape);
        if (skipped) {
          post({ type: 'benchVariant', product: index, row: { variant: matmulVariantName(variant), family: matmulFamily(variant), verified: false, maxError: NaN, checked: 0, skipped } });
          continue;
        }
        // One variant per call, so each row reaches the page as soon as it is verified and timed.
        const [row] = await compareMatmulVariants(gpu!.device, modelInternals(benchModel).ops, form, shape, [variant], { quick });
        // A one-variant call measures speed-up against itself; the baseline is the first candidate, as in Node.
        if (i === 0) baselineMs = row.timing?.medianMs;
        row.speedup = row.timing && baselineMs ? baselineMs / row.timing.medianMs : undefined;
        post({ type: 'benchVariant', product: index, row });
      }
    }
    post({ type: 'benchDone', seconds: (performance.now() - started) / 1000 });
  } finally {
    benchModel.dispose();
  }
}

/** The Experiments panel's queue: the same runs as `npm run sweep`, on a fresh model each, not the demo's. */
async function experiments(configs: ExperimentConfig[], trainSize: number): Promise<void> {
  stop = new AbortController();
  const splits = { ...data!, train: sliceDataset(data!.train, 0, Math.min(trainSize, data!.train.count), 'train') };
  for (const [index, config] of configs.entries()) {
    if (stop.signal.aborted) break;
    post({ type: 'experimentStart', index });
    const result = await runExperiment(gpu!.device, splits, config, {
      variants: defaultVariantsFor(gpu!.adapterInfo),
      shouldStop: () => stop.signal.aborted,
      onEpoch: (e) => post({ type: 'experimentEpoch', index, epoch: e.epoch, valAccuracy: e.validation!.accuracy, valLoss: e.validation!.loss }),
    });
    post({ type: 'experimentDone', index, result });
  }
  post({ type: 'experimentsDone', stopped: stop.signal.aborted });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'init': {
      gpu = await openBrowserDevice();
      const warming = message.warm ? warmUp(message.warm) : Promise.resolve();
      data = splitMnist(parseMnist(await fetchMnistBytes({ gzip: true })));
      await warming;
      const train = data.train;
      const preview: LabelledDigit[] = Array.from({ length: Math.min(PREVIEW_DIGITS, train.count) }, (_, i) => ({
        label: train.labels[i], pixels: train.images.slice(i * 784, (i + 1) * 784),
      }));
      post({ type: 'ready', adapter: gpu.adapterInfo, train: train.count, validation: data.validation.count, test: data.test.count, preview });
      return;
    }
    case 'train':
      return train(message.config);
    case 'resume':
      return resume();
    case 'loseDevice':
      gpu?.device.destroy();
      return;
    case 'reset':
      if (job === 'train' || job === 'load') {
        // Training owns the model until its current step ends; it resets itself then.
        stop.abort();
        resetAfterRun = true;
        return;
      }
      model?.dispose();
      model = undefined;
      post({ type: 'reset' });
      return;
    case 'predict': {
      if (!model) return;
      const probabilities = await model.predict(message.pixels, { count: 1 });
      post({ type: 'prediction', probabilities: Array.from(probabilities) });
      return;
    }
    case 'save': {
      if (!model) throw new Error('no model to save: train or load one first');
      const bytes = await model.toSafetensors();
      post({ type: 'saved', bytes }, [bytes.buffer]);
      return;
    }
    case 'load': {
      // Decoded and checked before the current model is touched: a bad file leaves it in place.
      const loaded = Model.fromSafetensors(gpu!.device, message.bytes, message.name, { variants: defaultVariantsFor(gpu!.adapterInfo) });
      model?.dispose();
      model = loaded;
      const summary = await summarize(loaded, false);
      if (honourPendingReset()) return;
      post({ type: 'loaded', name: message.name, architecture: `${loaded.architecture.name} (${loaded.parameterCount.toLocaleString('en-US')} parameters)`, ...summary });
      return;
    }
    case 'experiments':
      return experiments(message.configs, message.trainSize).catch((e: Error) => post({ type: 'experimentsFailed', message: e.message }));
    case 'bench':
      // Reported as benchFailed, so the page never confuses it with a prediction's or a save's error.
      return bench(message).catch((e: Error) => post({ type: 'benchFailed', message: e.message }));
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === 'stop') {
    stop.abort();
    return;
  }
  // One long job at a time (train, load, bench); predictions run between their awaits.
  const long = message.type === 'train' || message.type === 'resume' || message.type === 'load' || message.type === 'bench' || message.type === 'experiments';
  if (long && job) {
    const text = `busy: ${job === 'bench' ? 'the benchmark is running' : job === 'experiments' ? 'the experiments are running' : 'stop the current run first'}`;
    post(message.type === 'bench' ? { type: 'benchFailed', message: text }
      : message.type === 'experiments' ? { type: 'experimentsFailed', message: text } : { type: 'error', message: text });
    return;
  }
  if (long) job = message.type === 'resume' ? 'train' : message.type;
  handle(message)
    .catch((e: Error) => post({ type: 'error', message: e.message }))
    .finally(() => { if (long) job = undefined; });
};
