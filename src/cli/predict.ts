// npm run predict -- --model FILE.safetensors --image PATH.png|PATH.idx [--adapter …]
// Prints each image's class probabilities and the predicted digit.
import { formatAdapter } from '../gpu/device.js';
import { ADAPTER_CHOICES, openNodeDevice } from '../node/gpu.js';
import { loadImagesForPrediction } from '../node/images.js';
import { openModelFile, readModelFile } from '../node/modelFiles.js';
import { architectureOf } from '../engine/mlp.js';
import { defaultVariantsFor } from '../gpu/variants.js';
import { asInvoked, choiceFlag, parseFlags, runIfEntry, UsageError } from './args.js';

const MAX_PRINTED = 20;

export const USAGE = `usage: npm run predict -- --model FILE.safetensors --image PATH.png|PATH.idx [--adapter auto|system|lavapipe|swiftshader]
Prints each image's class probabilities and the predicted digit (a PNG of any size, dark ink on white, or an IDX file).`;

export async function main(): Promise<void> {
  const flags = parseFlags({ model: { type: 'string' }, image: { type: 'string' }, adapter: { type: 'string' } });
  if (!flags.model || !flags.image) throw new UsageError(asInvoked(USAGE).split('\n')[0]);
  const adapterChoice = choiceFlag('adapter', flags.adapter, ADAPTER_CHOICES, 'auto');
  // The model file and the images are read and checked before the GPU opens.
  const file = readModelFile(flags.model);
  const { images, count, warning } = loadImagesForPrediction(flags.image, architectureOf(file.options).inputs);
  if (warning) console.error(`predict: warning: ${warning}`);
  const gpu = await openNodeDevice(adapterChoice);
  console.log(`adapter: ${formatAdapter(gpu.adapterInfo)} — ${gpu.driverNote}`);
  const { model } = openModelFile(gpu.device, file, defaultVariantsFor(gpu.adapterInfo));
  const probs = await model.predict(images, { count });
  const C = model.classes;
  for (let i = 0; i < Math.min(count, MAX_PRINTED); i++) {
    const row = Array.from(probs.subarray(i * C, (i + 1) * C));
    const best = row.indexOf(Math.max(...row));
    const label = count > 1 ? `image ${i}: ` : '';
    // A regression gives its values; a multi-label model a probability per label, yes at 0.5 or more.
    if (model.loss === 'mse') { console.log(`${label}values ${row.map((v, c) => `${c}:${v.toFixed(4)}`).join(' ')}`); continue; }
    if (model.loss === 'bce') { console.log(`${label}labels ${row.map((p, c) => `${c}:${p >= 0.5 ? 'yes' : 'no'} (${p.toFixed(3)})`).join(' ')}`); continue; }
    console.log(`${label}predicted ${best} (${(100 * row[best]).toFixed(1)}%)  ` + row.map((p, c) => `${c}:${p.toFixed(3)}`).join(' '));
  }
  if (count > MAX_PRINTED) console.log(`… ${count - MAX_PRINTED} more images`);
  model.dispose();
  gpu.destroy();
}

runIfEntry(import.meta.url, 'predict', main, USAGE);
