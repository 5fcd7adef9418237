// The demo's training worker: opens WebGPU, loads MNIST from the same origin as raw IDX bytes, and runs
// the engine (and the Bench panel's benchmark) on request. All GPU work happens here.
import { matmulFamily, matmulUnsupported, matmulVariantName, type MatmulForm, type MatmulShape } from '../shaders/matmul.js';
import { compareMatmulVariants, matmulCandidates, quickMatmulCandidates } from '../src/tuning/matmulVariants.js';
import { stepBreakdown } from '../src/bench/step.js';
import { loadCheckpoint, saveCheckpoint } from '../src/engine/checkpoint.js';
import { openBrowserDevice, type OpenedDevice } from '../src/engine/device.js';
import { Model } from '../src/engine/model.js';
import { DeviceLostError } from '../src/errors.js';
import type { Dataset } from '../src/data/dataset.js';
import { slotOf } from '../src/engine/paramLayout.js';
import { MNIST_MEAN, MNIST_STD, parseMnist, splitMnist, type MnistSplits } from '../src/data/mnist.js';
import { defaultVariantsFor } from '../src/engine/variants.js';
import { fetchMnistBytes } from '../src/data/mnistFetch.js';
import { sliceDataset } from '../src/data/dataset.js';
import type { BenchRequest, FinishedRun, FromWorker, LabelledDigit, Misclassified, ToWorker, TrainConfig } from './protocol.js';
import { runExperiment } from '../src/experiments/run.js';
import type { ExperimentConfig } from '../src/experiments/config.js';

const MAX_MISCLASSIFIED = 48;
/** Training images shown on the page before training, so the reader sees what the network learns from. */
const PREVIEW_DIGITS = 8;

let gpu: OpenedDevice | undefined;
let data: MnistSplits | undefined;
let model: Model | undefined;
let stopRequested = false;
/** The long job running, if any: one at a time, since each would skew or fight over the other's GPU time. */
let job: 'train' | 'load' | 'bench' | 'experiments' | undefined;
let resetAfterRun = false;

const post = (message: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);

/** Test accuracy, confusion matrix, the most confident mistakes and first-layer weights of the current model. */
async function summarize(m: Model, stopped: boolean): Promise<FinishedRun> {
  const test = data!.test;
  const evaluation = await m.evaluate(test);
  const probabilities = await m.predict(test.images, test.count);
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
  const params = await m.getParams();
  // The first layer is linear: its weight is the engine's [784 × hidden] tensor '0.weight'.
  const w = slotOf(m.parameters.layout, `${m.architecture.layers[0].index}.weight`);
  return {
    stopped, testAccuracy: evaluation.accuracy, testLoss: evaluation.loss, confusion, misclassified,
    firstLayer: params.slice(w.offset, w.offset + w.length), hidden: m.sizes[1],
  };
}

/** The run in progress, and its last epoch's full checkpoint: what a lost device resumes from. */
let lastRun: { config: TrainConfig; checkpoint?: Uint8Array; epochs: number } | undefined;

async function train(config: TrainConfig, from?: Uint8Array): Promise<void> {
  model?.dispose();
  model = undefined;
  const sizes = [784, ...config.hidden, 10];
  const options = { sizes, seed: config.seed, pixelMean: MNIST_MEAN, pixelStd: MNIST_STD, variants: defaultVariantsFor(gpu!.adapterInfo) };
  const m = new Model(gpu!.device, options);
  if (from) loadCheckpoint(m, from, 'last epoch');
  model = m;
  lastRun = { config, checkpoint: from, epochs: m.epochs };
  const trainSet = sliceDataset(data!.train, 0, Math.min(config.trainSize, data!.train.count), 'train');
  stopRequested = false;
  try {
    await fitRun(m, trainSet, config);
  } catch (e) {
    if (!(e instanceof DeviceLostError)) throw e;
    model = undefined;
    post({ type: 'deviceLost', message: e.message, epochsDone: lastRun.epochs });
    return;
  }
  if (honourPendingReset()) return;
  post({ type: 'done', ...(await summarize(m, stopRequested)) });
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
function fitRun(m: Model, trainSet: Dataset, config: TrainConfig) {
  let epochStart = performance.now();
  return m.fit(trainSet, {
    epochs: config.epochs - m.epochs,
    batchSize: config.batchSize,
    optimizer: { kind: config.optimizer, lr: config.lr },
    validation: data!.validation,
    // Every progress point is one small GPU readback (the epoch's loss and accuracy so far). Every 10 steps gives
    // the loss chart ~8 points per epoch on the default 10,000 images (79 steps), and the readback costs far
    // less than the 10 steps it follows, even on a fast GPU.
    progressEvery: 10,
    shouldStop: () => stopRequested,
    onStep: (s) => {
      if (s.step === 1) epochStart = performance.now();
      const seconds = (performance.now() - epochStart) / 1000;
      post({
        type: 'step', epoch: s.epoch, step: s.step, stepsPerEpoch: s.stepsPerEpoch, samples: s.samples, loss: s.loss, accuracy: s.accuracy,
        samplesPerSecond: seconds > 0 ? s.samples / seconds : 0,
      });
    },
    onEpoch: async (e) => {
      // One read-back per epoch: the state a lost device resumes from. The page logs only epochs kept so.
      lastRun = { config, checkpoint: await saveCheckpoint(m, { full: true }), epochs: e.epoch };
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
  const benchModel = new Model(gpu!.device, { sizes, seed: 0, variants: defaultVariantsFor(gpu!.adapterInfo) });
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
        const [row] = await compareMatmulVariants(gpu!.device, benchModel.ops, form, shape, [variant], { quick });
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
  stopRequested = false;
  const splits = { ...data!, train: sliceDataset(data!.train, 0, Math.min(trainSize, data!.train.count), 'train') };
  for (const [index, config] of configs.entries()) {
    if (stopRequested) break;
    post({ type: 'experimentStart', index });
    const result = await runExperiment(gpu!.device, splits, config, {
      variants: defaultVariantsFor(gpu!.adapterInfo),
      shouldStop: () => stopRequested,
      onEpoch: (e) => post({ type: 'experimentEpoch', index, epoch: e.epoch, valAccuracy: e.validation!.accuracy, valLoss: e.validation!.loss }),
    });
    post({ type: 'experimentDone', index, result });
  }
  post({ type: 'experimentsDone', stopped: stopRequested });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'init': {
      gpu = await openBrowserDevice();
      data = splitMnist(parseMnist(await fetchMnistBytes()));
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
        stopRequested = true;
        resetAfterRun = true;
        return;
      }
      model?.dispose();
      model = undefined;
      post({ type: 'reset' });
      return;
    case 'predict': {
      if (!model) return;
      const probabilities = await model.predict(message.pixels, 1);
      post({ type: 'prediction', probabilities: Array.from(probabilities) });
      return;
    }
    case 'save': {
      if (!model) throw new Error('no model to save: train or load one first');
      const bytes = await saveCheckpoint(model);
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
      post({ type: 'loaded', name: message.name, sizes: loaded.sizes, ...summary });
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
    stopRequested = true;
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
