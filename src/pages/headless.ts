// The main training job inside a browser page, for `npm run train:browser` (see headlessProtocol.ts).
import { parseMnist, splitMnist } from '../data/mnist.js';
import { fetchMnistBytes } from '../data/mnistFetch.js';
import { openBrowserDevice } from '../gpu/device.js';
import { Model } from '../engine/model.js';
import { defaultVariantsFor } from '../gpu/variants.js';
import { headlessRun, type HeadlessReport } from './headlessProtocol.js';

async function main(report: HeadlessReport): Promise<void> {
  const config = headlessRun(location.search);
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
    schedule: config.schedule, labelSmoothing: config.labelSmoothing, patience: config.patience, maxNorm: config.maxNorm, augment: config.augment,
    onStep: (s) => void report({ kind: 'step', step: s }),
    onEpoch: (e) => report({ kind: 'epoch', epoch: e }),
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const test = await model.evaluate(splits.test);
  await report({ kind: 'test', test, trainSeconds });
  model.dispose();
  gpu.device.destroy();
}

const report = (window as unknown as { report?: HeadlessReport }).report ?? (async (m) => console.log(m));
main(report).catch((e: Error) => report({ kind: 'error', message: e.message }));
