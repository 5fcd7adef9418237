// The main training job inside a browser page, for `npm run train:browser`: the run's config comes in the
// URL (?config=JSON), progress goes out through window.report (exposed by Puppeteer), printed by the CLI.
import { parseMnist, splitMnist } from '../src/data/mnist.js';
import { fetchMnistBytes } from '../src/data/mnistFetch.js';
import { openBrowserDevice } from '../src/engine/device.js';
import { Model } from '../src/engine/model.js';
import { defaultVariantsFor } from '../src/engine/variants.js';
import type { OptimizerConfig } from '../src/engine/optimizer.js';
import type { ScheduleConfig } from '../src/engine/schedule.js';
import type { LayerSpec } from '../src/layers/index.js';

export interface HeadlessConfig {
  sizes: number[];
  layers: LayerSpec[];
  schedule?: ScheduleConfig;
  labelSmoothing: number;
  patience?: number;
  maxNorm?: number;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  seed: number;
  limit?: number;
  validationSize: number;
  pixelMean: number;
  pixelStd: number;
  progressEvery: number;
}

type Report = (message: unknown) => Promise<void>;

async function main(report: Report): Promise<void> {
  const config = JSON.parse(new URLSearchParams(location.search).get('config') ?? '{}') as HeadlessConfig;
  const gpu = await openBrowserDevice();
  await report({ kind: 'adapter', adapter: gpu.adapterInfo, note: `navigator.gpu in ${navigator.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? 'the browser'}` });
  const splits = splitMnist(parseMnist(await fetchMnistBytes({ gzip: true })), { validationSize: config.validationSize, limit: config.limit });
  const model = new Model(gpu.device, {
    layers: config.layers, seed: config.seed, pixelMean: config.pixelMean, pixelStd: config.pixelStd, variants: defaultVariantsFor(gpu.adapterInfo),
  });
  await report({ kind: 'describe', parameters: model.parameterCount, train: splits.train.count, validation: splits.validation.count, test: splits.test.count });
  const started = performance.now();
  await model.fit(splits.train, {
    epochs: config.epochs, batchSize: config.batchSize, optimizer: config.optimizer, progressEvery: config.progressEvery,
    validation: splits.validation.count > 0 ? splits.validation : undefined,
    schedule: config.schedule, labelSmoothing: config.labelSmoothing, patience: config.patience, maxNorm: config.maxNorm,
    onStep: (s) => void report({ kind: 'step', step: s }),
    onEpoch: (e) => report({ kind: 'epoch', epoch: e }),
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const test = await model.evaluate(splits.test);
  await report({ kind: 'test', test, trainSeconds });
  model.dispose();
  gpu.device.destroy();
}

const report = (window as unknown as { report?: Report }).report ?? (async (m: unknown) => console.log(m));
main(report).catch((e: Error) => report({ kind: 'error', message: e.message }));
