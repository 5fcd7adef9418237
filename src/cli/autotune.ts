// npm run autotune -- [--hidden 500[,300...] | --layers LIST] [--batch-size 128[,1024...]] [--budget-ms 3000] [--adapter auto|system|lavapipe|swiftshader]
//   [--fresh] [--json FILE]
// Tunes the matmul variant of every product of a training step on this adapter, prints the choices, and keeps
// them in the tuning cache that `npm run train -- --autotune` reads. --json writes them with the adapter, the
// table that src/gpu/measuredVariants.ts holds for real GPUs.
import { matmulVariantName } from '../../shaders/matmul.js';
import { formatAdapter } from '../gpu/device.js';
import { checkOutputs, writeFileAtomic } from '../node/files.js';
import { ADAPTER_CHOICES, openNodeDevice } from '../node/gpu.js';
import { defaultTuneFile, fileTuneStore } from '../node/tuneStore.js';
import { autotuneVariants, trainingMatmuls } from '../tuning/autotune.js';
import { matmulShapeKey } from '../gpu/variants.js';
import { asInvoked, choiceFlag, intFlag, intListFlag, parseFlags, runIfEntry, UsageError } from './args.js';
import { architectureOf, mlpArchitecture } from '../engine/mlp.js';
import type { Architecture } from '../layers/architecture.js';
import { parseLayers } from '../layers/index.js';
import { table } from './report.js';

export const USAGE = `usage: npm run autotune -- [--hidden 500[,300...] | --layers LIST] [--batch-size 128[,1024...]] [--budget-ms 3000]
  [--fresh] [--json FILE] [--adapter auto|system|lavapipe|swiftshader]
Picks the fastest matmul variant for every product of a training step on this adapter and keeps it in the cache
that train --autotune reads.`;

export async function main(): Promise<void> {
  const flags = parseFlags({
    hidden: { type: 'string' }, 'batch-size': { type: 'string' }, 'budget-ms': { type: 'string' }, adapter: { type: 'string' },
    fresh: { type: 'boolean' }, json: { type: 'string' }, layers: { type: 'string' },
  });
  const sizes = [784, ...intListFlag('hidden', flags.hidden, [500]), 10];
  // --layers: any model (a CNN's convolution products too), in place of the MLP of --hidden.
  let model: Architecture;
  try {
    model = flags.layers !== undefined ? architectureOf({ layers: parseLayers(flags.layers) }) : mlpArchitecture(sizes);
  } catch (e) {
    throw new UsageError(`--layers: ${(e as Error).message}`);
  }
  const batchSizes = intListFlag('batch-size', flags['batch-size'], [128]);
  const budgetMs = intFlag('budget-ms', flags['budget-ms'], 3000);
  // Before the tuning, not after it.
  checkOutputs({ json: flags.json });
  const gpu = await openNodeDevice(choiceFlag('adapter', flags.adapter, ADAPTER_CHOICES, 'auto'));
  const adapter = formatAdapter(gpu.adapterInfo);
  console.log(`adapter: ${adapter} — ${gpu.driverNote}`);
  const started = performance.now();
  // --fresh: measure these shapes again rather than reuse this adapter's cached choices.
  const tuned = await autotuneVariants(gpu.device, {
    architecture: model, batchSizes, adapter: gpu.adapterInfo, store: fileTuneStore(), budgetMs, fresh: flags.fresh, log: (l) => console.log(l),
  });
  console.log(`tuned in ${((performance.now() - started) / 1000).toFixed(1)} s; cache: ${defaultTuneFile()}`);
  const keys = batchSizes.flatMap((b) => trainingMatmuls(model, b).map(([form, shape]) => matmulShapeKey(form, shape)));
  const choices = Object.fromEntries([...new Set(keys)].map((k) => [k, tuned.matmulByShape![k]]));
  console.log(table(['product', 'variant'], Object.entries(choices).map(([k, v]) => [k, v ? matmulVariantName(v) : '(none verified)'])));
  if (flags.json) {
    const command = asInvoked(`npm run autotune -- ${flags.layers !== undefined ? `--layers ${flags.layers}` : `--hidden ${sizes.slice(1, -1).join(',')}`} --batch-size ${batchSizes.join(',')}`);
    writeFileAtomic(flags.json, JSON.stringify({ adapter, command, choices }, null, 2) + '\n', 'json');
    console.log(`results: ${flags.json}`);
  }
  gpu.destroy();
}

runIfEntry(import.meta.url, 'autotune', main, USAGE);
