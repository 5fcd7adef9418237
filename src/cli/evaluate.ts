// npm run evaluate -- --model FILE.safetensors [--data DIR] [--adapter …]: test accuracy of a saved model.
import { formatAdapter } from '../gpu/device.js';
import { ADAPTER_CHOICES, openNodeDevice } from '../node/gpu.js';
import { defaultMnistDir, loadMnist } from '../node/mnistFiles.js';
import { openModelFile } from '../node/modelFiles.js';
import { defaultVariantsFor } from '../gpu/variants.js';
import { choiceFlag, parseFlags, runIfEntry, UsageError } from './args.js';
import { fmt, int, pct } from './report.js';

export async function main(): Promise<void> {
  const flags = parseFlags({ model: { type: 'string' }, data: { type: 'string' }, adapter: { type: 'string' } });
  if (!flags.model) throw new UsageError('usage: npm run evaluate -- --model FILE.safetensors [--data DIR]');
  const gpu = await openNodeDevice(choiceFlag('adapter', flags.adapter, ADAPTER_CHOICES, 'auto'));
  console.log(`adapter: ${formatAdapter(gpu.adapterInfo)} — ${gpu.driverNote}`);
  const { model, metadata } = openModelFile(gpu.device, flags.model, defaultVariantsFor(gpu.adapterInfo));
  const origin = metadata.format ? `engine ${metadata.engine_version}, epoch ${metadata.epoch}` : 'no engine metadata (e.g. saved by PyTorch)';
  console.log(`model: ${flags.model}: ${model.architecture.name}, ${origin}, pixels x/255` +
    (model.pixelNormalization.std !== 1 ? ` standardized (${model.pixelNormalization.mean}, ${model.pixelNormalization.std})` : ''));
  const { test } = loadMnist(flags.data ?? defaultMnistDir());
  const result = await model.evaluate(test);
  console.log(`test accuracy: ${pct(result.accuracy)} (loss ${fmt(result.loss)}, ${int(test.count)} images)`);
  model.dispose();
  gpu.destroy();
}

runIfEntry(import.meta.url, 'evaluate', main);
