// npm run evaluate -- --model FILE.safetensors [--data DIR] [--adapter …]: test accuracy of a saved model.
import { CHECKPOINT_FORMAT } from '../engine/checkpoint.js';
import { formatAdapter } from '../gpu/device.js';
import { ADAPTER_CHOICES, openNodeDevice } from '../node/gpu.js';
import { defaultMnistDir, loadMnist } from '../node/mnistFiles.js';
import { openModelFile, readModelFile } from '../node/modelFiles.js';
import { defaultVariantsFor } from '../gpu/variants.js';
import { asInvoked, choiceFlag, parseFlags, runIfEntry, UsageError } from './args.js';
import { fmt, int, pct } from './report.js';
import { counted } from './progress.js';
import { CSV_FLAGS, isCsvPath, tableForEvaluation } from './tableData.js';

export const USAGE = `usage: npm run evaluate -- --model FILE.safetensors [--data DIR] [--adapter auto|system|lavapipe|swiftshader]
  [--data FILE.csv --label-column NAME | --target-columns A,B [--features C,D]]
Scores a saved model (this engine's, or a PyTorch nn.Sequential state dict) on the MNIST test set, or on every row of a table.`;

export async function main(): Promise<void> {
  const flags = parseFlags({ model: { type: 'string' }, data: { type: 'string' }, adapter: { type: 'string' }, ...CSV_FLAGS });
  if (!flags.model) throw new UsageError(asInvoked(USAGE).split('\n')[0]);
  const adapter = choiceFlag('adapter', flags.adapter, ADAPTER_CHOICES, 'auto');
  // The file and the data are read and checked before the GPU opens.
  const file = readModelFile(flags.model);
  if (flags['test-size'] !== undefined) throw new UsageError('--test-size is for train: evaluate scores every row of the table');
  const table = isCsvPath(flags.data) ? tableForEvaluation(flags, file.file.metadata) : undefined;
  const { test } = table ?? loadMnist(flags.data ?? defaultMnistDir());
  const gpu = await openNodeDevice(adapter);
  console.log(`adapter: ${formatAdapter(gpu.adapterInfo)} — ${gpu.driverNote}`);
  const { model, metadata } = openModelFile(gpu.device, file, defaultVariantsFor(gpu.adapterInfo));
  const origin = metadata.format === CHECKPOINT_FORMAT ? `engine ${metadata.engine_version}, epoch ${metadata.epoch}` : `no engine metadata (${metadata.format ? `format '${metadata.format}', ` : ''}e.g. saved by PyTorch)`;
  console.log(`model: ${flags.model}: ${model.architecture.name}, ${origin}, ${model.input === 'f32' ? 'f32 features' : 'pixels x/255'}` +
    (model.pixelNormalization.std !== 1 ? ` standardized (${model.pixelNormalization.mean}, ${model.pixelNormalization.std})` : ''));
  const result = await model.evaluate(test);
  if (table) console.log(`data: ${table.source}`);
  const detail = `(loss ${fmt(result.loss)}, ${counted(test.count, table ? 'row' : 'image', int)})`;
  // The figure of the model's task: R² for a regression, per-label accuracy for multi-label, else accuracy.
  if (result.r2 !== undefined) console.log(`test mae: ${fmt(result.meanAbsoluteError!)} ${detail}\ntest r2: ${fmt(result.r2)}`);
  else if (result.labelAccuracy !== undefined) console.log(`test per-label accuracy: ${pct(result.labelAccuracy)} ${detail}`);
  else console.log(`test accuracy: ${pct(result.accuracy)} ${detail}`);
  model.dispose();
  gpu.destroy();
}

runIfEntry(import.meta.url, 'evaluate', main, USAGE);
