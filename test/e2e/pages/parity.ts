// Runs the engine in the page: the same seeded 20 training steps as the Node side of the parity test.
import { parseMnist } from '../../../src/data/mnist.js';
import { fetchMnistBytes } from '../../../src/data/mnistFetch.js';
import { openBrowserDevice } from '../../../src/gpu/device.js';
import { runParitySteps } from './paritySteps.js';

async function main() {
  const bytes = await fetchMnistBytes({ gzip: true });
  const gpu = await openBrowserDevice();
  const result = await runParitySteps(gpu.device, parseMnist(bytes));
  (window as unknown as { parity: unknown }).parity = { ...result, adapter: gpu.adapterInfo };
}

main().catch((e) => {
  (window as unknown as { parity: unknown }).parity = { error: String(e?.message ?? e) };
});
