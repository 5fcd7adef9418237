// A separate web project's page: imports the built package by name (dist/, through its exports map) and
// trains a few steps on a synthetic task (class c lights up row band c of a 28×28 image).
import { Model, openBrowserDevice } from 'webgpu-mlp';

function synthetic(count) {
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % 10;
    labels[i] = c;
    for (let x = 0; x < 28; x++) for (let y = 2 * c; y < 2 * c + 3; y++) images[i * 784 + y * 28 + x] = 128 + ((i * 31 + x * 7) % 128);
  }
  return { name: 'synthetic', images, labels, count, features: 784 };
}

async function main() {
  const gpu = await openBrowserDevice();
  const data = synthetic(320);
  const model = new Model(gpu.device, { sizes: [784, 32, 10], seed: 1 });
  const before = await model.evaluate(data);
  const history = await model.fit(data, { epochs: 3, batchSize: 32, optimizer: { kind: 'adam', lr: 3e-3 } });
  const after = await model.evaluate(data);
  window.result = { before, after, epochs: history.length, adapter: gpu.adapterInfo };
}

main().catch((e) => { window.result = { error: String(e && e.message || e) }; });
