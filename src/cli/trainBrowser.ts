// npm run train:browser -- [flags]: the main training job inside headless Chromium (WebGPU through the
// browser), for machines where only a browser has WebGPU. Takes train's recipe flags (src/cli/recipe.ts) and
// --json, and prints the same output.
import { architecture, defaultInputShape } from '../layers/architecture.js';
import type { Evaluation } from '../engine/model.js';
import type { AdapterDescription } from '../gpu/device.js';
import type { RunRecipe } from '../engine/recipe.js';
import { CHROMIUM_ARGS, launchChromium, startViteServer } from '../node/chromium.js';
import { checkOutputs, writeFileAtomic } from '../node/files.js';
import { headlessUrl, type HeadlessMessage } from '../pages/headlessProtocol.js';
import { parseFlags, runMain } from './args.js';
import { parseRecipe, RECIPE_FLAGS, recipeExtras } from './recipe.js';
import { formatLayers } from '../layers/index.js';
import { TrainReporter } from './report.js';

const USAGE = `usage: npm run train:browser -- [train's recipe flags: --epochs, --layers, --lr, --augment, …] [--json FILE]
Trains inside headless Chromium (WebGPU through the browser) and prints what train prints.`;

async function main(): Promise<void> {
  const flags = parseFlags({ ...RECIPE_FLAGS, json: { type: 'string' } });
  const recipe = parseRecipe(flags);
  const { sizes, pixels, ...run } = recipe;
  const config: RunRecipe = run;
  // Before the training, not after it.
  checkOutputs({ json: flags.json });

  const { server, origin } = await startViteServer();
  const browser = await launchChromium();
  const reporter = new TrainReporter();
  let adapter: AdapterDescription | undefined;
  try {
    const page = await browser.newPage();
    const finished = new Promise<{ test: Evaluation; trainSeconds: number }>((resolve, reject) => {
      page.on('pageerror', (e) => reject(new Error(`page error: ${(e as Error).message}`)));
      void page.exposeFunction('report', (m: HeadlessMessage) => {
        if (m.kind === 'adapter') {
          adapter = m.adapter;
          reporter.adapter(m.adapter, `${m.note} (headless Chromium: ${CHROMIUM_ARGS[0]})`);
        } else if (m.kind === 'describe') {
          reporter.describe({ ...config, sizes, ...m, optimizer: config.optimizer, dataSource: `${origin}/mnist/`, layers: formatLayers(config.layers), name: architecture(config.layers, defaultInputShape(config.layers)).name, extras: recipeExtras(config) });
        } else if (m.kind === 'step') reporter.step(m.step);
        else if (m.kind === 'epoch') reporter.epoch(m.epoch);
        else if (m.kind === 'test') resolve(m);
        else reject(new Error(m.message));
      });
    });
    await page.goto(headlessUrl(origin, config));
    const { test, trainSeconds } = await finished;
    reporter.test(test, trainSeconds);
    if (flags.json) {
      writeFileAtomic(flags.json, JSON.stringify(reporter.results({ ...config, sizes, pixels, runtime: 'headless-chromium' }, { ...adapter }, test, trainSeconds), null, 2) + '\n', 'json');
      console.log(`results: ${flags.json}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

runMain('train:browser', main, USAGE);
