// npm run train:browser -- [flags]: the main training job inside headless Chromium (WebGPU through the
// browser), for machines where only a browser has WebGPU. Same flags and output as `npm run train`.
import { writeFileSync } from 'node:fs';
import type { EpochInfo, Evaluation, StepInfo } from '../engine/model.js';
import type { AdapterDescription } from '../engine/device.js';
import { validateSizes } from '../engine/mlp.js';
import { OPTIMIZER_KINDS } from '../engine/optimizer.js';
import { CHROMIUM_ARGS, launchChromium, startViteServer } from '../node/chromium.js';
import type { HeadlessConfig } from '../../demo/headless.js';
import { choiceFlag, floatFlag, intFlag, parseFlags, runMain, UsageError } from './args.js';
import { TrainReporter } from './report.js';

type Message =
  | { kind: 'adapter'; adapter: AdapterDescription; note: string }
  | { kind: 'describe'; parameters: number; train: number; validation: number; test: number }
  | { kind: 'step'; step: StepInfo }
  | { kind: 'epoch'; epoch: EpochInfo }
  | { kind: 'test'; test: Evaluation; trainSeconds: number }
  | { kind: 'error'; message: string };

async function main(): Promise<void> {
  const flags = parseFlags({
    epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, hidden: { type: 'string' },
    optimizer: { type: 'string' }, seed: { type: 'string' }, limit: { type: 'string' }, 'validation-size': { type: 'string' },
    pixels: { type: 'string' }, 'progress-every': { type: 'string' }, json: { type: 'string' },
  });
  const hidden = flags.hidden === undefined ? [500] : flags.hidden.split(',').map(Number);
  const sizes = [784, ...hidden, 10];
  try {
    validateSizes(sizes);
  } catch (e) {
    throw new UsageError(`--hidden: ${(e as Error).message}`);
  }
  const standardized = choiceFlag('pixels', flags.pixels, ['standardized', 'unit'] as const, 'standardized') === 'standardized';
  const config: HeadlessConfig = {
    sizes,
    epochs: intFlag('epochs', flags.epochs, 10),
    batchSize: intFlag('batch-size', flags['batch-size'], 128),
    optimizer: { kind: choiceFlag('optimizer', flags.optimizer, OPTIMIZER_KINDS, 'adam'), lr: floatFlag('lr', flags.lr, 1e-3) },
    seed: intFlag('seed', flags.seed, 0, 0),
    limit: flags.limit === undefined ? undefined : intFlag('limit', flags.limit, 0),
    validationSize: intFlag('validation-size', flags['validation-size'], 5000, 0),
    pixelMean: standardized ? 0.1307 : 0,
    pixelStd: standardized ? 0.3081 : 1,
    progressEvery: intFlag('progress-every', flags['progress-every'], 50, 0),
  };

  const { server, origin } = await startViteServer();
  const browser = await launchChromium();
  const reporter = new TrainReporter();
  let adapter: AdapterDescription | undefined;
  try {
    const page = await browser.newPage();
    const finished = new Promise<{ test: Evaluation; trainSeconds: number }>((resolve, reject) => {
      page.on('pageerror', (e) => reject(new Error(`page error: ${(e as Error).message}`)));
      void page.exposeFunction('report', (m: Message) => {
        if (m.kind === 'adapter') {
          adapter = m.adapter;
          reporter.adapter(m.adapter, `${m.note} (headless Chromium: ${CHROMIUM_ARGS[0]})`);
        } else if (m.kind === 'describe') {
          reporter.describe({ ...config, ...m, optimizer: config.optimizer, dataSource: `${origin}/mnist/` });
        } else if (m.kind === 'step') reporter.step(m.step);
        else if (m.kind === 'epoch') reporter.epoch(m.epoch);
        else if (m.kind === 'test') resolve(m);
        else reject(new Error(m.message));
      });
    });
    await page.goto(`${origin}/demo/headless.html?config=${encodeURIComponent(JSON.stringify(config))}`);
    const { test, trainSeconds } = await finished;
    reporter.test(test, trainSeconds);
    if (flags.json) {
      writeFileSync(flags.json, JSON.stringify(reporter.results({ ...config, runtime: 'headless-chromium' }, { ...adapter }, test, trainSeconds), null, 2) + '\n');
      console.log(`results: ${flags.json}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

runMain('train:browser', main);
