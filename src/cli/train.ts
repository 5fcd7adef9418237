// npm run train -- [flags]: trains the MLP on MNIST on WebGPU (Node, Dawn) and reports the test accuracy.
import { formatAdapter } from '../engine/device.js';
import { validateSizes } from '../engine/mlp.js';
import { Model, type EpochInfo } from '../engine/model.js';
import { OPTIMIZER_KINDS, type OptimizerConfig } from '../engine/optimizer.js';
import { splitMnist } from '../data/mnist.js';
import { ADAPTER_CHOICES, openNodeDevice } from '../node/gpu.js';
import { defaultMnistDir, loadMnist } from '../node/mnistFiles.js';
import { writeFileAtomic } from '../node/files.js';
import { openModelFile, saveModelFile } from '../node/modelFiles.js';
import { choiceFlag, floatFlag, intFlag, parseFlags, runMain, UsageError } from './args.js';
import { formatSeconds, ProgressBar } from './progress.js';

const USAGE = `usage: npm run train -- [--epochs 10] [--batch-size 128] [--lr 0.001] [--hidden 500[,300...]]
  [--optimizer adam|adamw|sgd] [--momentum 0] [--weight-decay 0] [--seed 0] [--limit N]
  [--validation-size 5000] [--random-split] [--pixels standardized|unit] [--data DIR]
  [--adapter auto|system|swiftshader] [--progress-every 50] [--json FILE]
  [--save FILE.safetensors] [--checkpoint FILE.safetensors] [--checkpoint-every 1] [--resume FILE.safetensors]`;

/** MNIST's pixel mean and standard deviation on the x/255 scale (the usual torchvision constants). */
const MNIST_MEAN = 0.1307;
const MNIST_STD = 0.3081;

const fmt = (x: number, digits = 4) => x.toFixed(digits);
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');

function parseHidden(raw: string | undefined): number[] {
  if (raw === undefined) return [500];
  if (raw.trim() === '') return [];
  return raw.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--hidden takes comma-separated positive integers, got '${raw}'`);
    return n;
  });
}

async function main(): Promise<void> {
  const flags = parseFlags({
    epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, hidden: { type: 'string' },
    optimizer: { type: 'string' }, momentum: { type: 'string' }, 'weight-decay': { type: 'string' }, seed: { type: 'string' },
    limit: { type: 'string' }, 'validation-size': { type: 'string' }, 'random-split': { type: 'boolean' },
    pixels: { type: 'string' }, data: { type: 'string' }, adapter: { type: 'string' },
    'progress-every': { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    save: { type: 'string' }, checkpoint: { type: 'string' }, 'checkpoint-every': { type: 'string' }, resume: { type: 'string' },
  });
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const epochs = intFlag('epochs', flags.epochs, 10);
  const batchSize = intFlag('batch-size', flags['batch-size'], 128);
  const seed = intFlag('seed', flags.seed, 0, 0);
  const optimizer: OptimizerConfig = {
    kind: choiceFlag('optimizer', flags.optimizer, OPTIMIZER_KINDS, 'adam'),
    lr: floatFlag('lr', flags.lr, 1e-3),
    momentum: floatFlag('momentum', flags.momentum, 0, (x) => x >= 0 && x < 1),
    weightDecay: flags['weight-decay'] === undefined ? undefined : floatFlag('weight-decay', flags['weight-decay'], 0, (x) => x >= 0),
  };
  const adapterChoice = choiceFlag('adapter', flags.adapter, ADAPTER_CHOICES, 'auto');
  const progressEvery = intFlag('progress-every', flags['progress-every'], 50, 0);
  const dataDir = flags.data ?? defaultMnistDir();
  const pixels = choiceFlag('pixels', flags.pixels, ['standardized', 'unit'] as const, 'standardized');
  const standardize = pixels === 'standardized';
  const sizes = [784, ...parseHidden(flags.hidden), 10];
  validateSizes(sizes);

  const gpu = await openNodeDevice(adapterChoice);
  const adapter = formatAdapter(gpu.adapterInfo);
  console.log(`adapter: ${adapter} — ${gpu.driverNote}`);

  const all = loadMnist(dataDir);
  const splits = splitMnist(all, {
    validationSize: intFlag('validation-size', flags['validation-size'], 5000, 0),
    randomSplitSeed: flags['random-split'] ? seed : undefined,
    limit: flags.limit === undefined ? undefined : intFlag('limit', flags.limit, 0),
  });
  const checkpointEvery = intFlag('checkpoint-every', flags['checkpoint-every'], 1);
  if (flags['checkpoint-every'] !== undefined && !flags.checkpoint) throw new UsageError('--checkpoint-every needs --checkpoint FILE');
  let model: Model;
  let batch = batchSize;
  let fitOptimizer = optimizer;
  if (flags.resume) {
    ({ model } = openModelFile(gpu.device, flags.resume));
    if (flags.hidden !== undefined && model.sizes.join() !== sizes.join()) {
      throw new UsageError(`--hidden gives ${sizes.join('-')} but ${flags.resume} holds a ${model.sizes.join('-')} MLP`);
    }
    if (model.lastFit) ({ batchSize: batch, optimizer: fitOptimizer } = model.lastFit);
    console.log(`resume: ${flags.resume} at epoch ${model.epochs}, optimizer step ${model.optimizer?.step ?? 0}` +
      (model.lastFit ? ` (its batch size and optimizer are kept)` : ' (weights only: the optimizer starts fresh)'));
    if (model.epochs >= epochs) throw new UsageError(`${flags.resume} has ${model.epochs} epochs done; ask for more with --epochs`);
  } else {
    model = new Model(gpu.device, {
      sizes, seed,
      ...(standardize ? { pixelMean: MNIST_MEAN, pixelStd: MNIST_STD } : {}),
    });
  }
  console.log(
    `model: ${model.sizes.join('-')} MLP (${int(model.parameters.layout.parameterCount)} parameters), ${fitOptimizer.kind} lr ${fitOptimizer.lr}, ` +
      `batch ${batch}, ${epochs} epochs, seed ${seed}, pixels x/255` +
      (model.pixelNormalization.std !== 1 ? ` standardized (${model.pixelNormalization.mean}, ${model.pixelNormalization.std})` : ''),
  );
  console.log(`data: ${int(splits.train.count)} train / ${int(splits.validation.count)} validation / ${int(splits.test.count)} test (${dataDir})`);

  const bar = new ProgressBar();
  const started = performance.now();
  let epochStarted = performance.now();
  let lastLoss = NaN;
  const history: EpochInfo[] = [];
  await model.fit(splits.train, {
    epochs: epochs - model.epochs, batchSize: batch, optimizer: fitOptimizer, progressEvery,
    validation: splits.validation.count > 0 ? splits.validation : undefined,
    onStep: (s) => {
      if (s.step === 1) {
        epochStarted = performance.now();
        lastLoss = NaN;
      }
      if (s.loss !== undefined) lastLoss = s.loss;
      const elapsed = (performance.now() - epochStarted) / 1000;
      const rate = s.samples / Math.max(elapsed, 1e-9);
      const eta = (splits.train.count - s.samples) / rate;
      const loss = Number.isNaN(lastLoss) ? 'loss …' : `loss ${fmt(lastLoss)}`;
      const speed = s.step > 1 ? `  ${int(rate)} samples/s  ETA ${formatSeconds(eta)}` : '';
      bar.update(`epoch ${s.epoch}/${epochs}`, s.step, s.stepsPerEpoch, `${loss}${speed}`);
    },
    onEpoch: async (e) => {
      bar.done();
      history.push(e);
      const val = e.validation ? `  val loss ${fmt(e.validation.loss)}  val acc ${pct(e.validation.accuracy)}` : '';
      console.log(
        `epoch ${String(e.epoch).padStart(2)}  train loss ${fmt(e.trainLoss)}  train acc ${pct(e.trainAccuracy)}${val}  ` +
          `${e.seconds.toFixed(1)}s  ${int(e.samplesPerSecond)} samples/s`,
      );
      if (flags.checkpoint && (e.epoch % checkpointEvery === 0 || e.epoch === epochs)) {
        await saveModelFile(model, flags.checkpoint, { full: true });
        console.log(`checkpoint: ${flags.checkpoint} (epoch ${e.epoch})`);
      }
    },
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const test = await model.evaluate(splits.test);
  console.log(`test accuracy: ${pct(test.accuracy)} (loss ${fmt(test.loss)}, ${int(test.count)} images, trained in ${formatSeconds(trainSeconds)})`);

  if (flags.save) {
    await saveModelFile(model, flags.save, { metadata: { test_accuracy: String(test.accuracy) } });
    console.log(`saved: ${flags.save} (PyTorch nn.Sequential state dict, safetensors)`);
  }
  if (flags.json) {
    const result = {
      config: { sizes: model.sizes, epochs, batchSize: batch, optimizer: model.optimizer!.config, resume: flags.resume ?? null, seed, limit: flags.limit ? Number(flags.limit) : null,
        validationSize: splits.validation.count, randomSplit: Boolean(flags['random-split']), pixels, data: dataDir },
      adapter: { ...gpu.adapterInfo, driver: gpu.driverNote },
      history,
      test,
      timings: { trainSeconds, meanSamplesPerSecond: history.reduce((a, e) => a + e.samplesPerSecond, 0) / history.length },
    };
    writeFileAtomic(flags.json, JSON.stringify(result, null, 2) + '\n');
    console.log(`results: ${flags.json}`);
  }
  model.dispose();
  gpu.destroy();
}

runMain('train', main);
