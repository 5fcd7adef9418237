// The parity run, shared by Node and the browser: 20 Adam steps at batch 64 from seed 7, then the loss
// over the first 512 test images.
import { sliceDataset, type Dataset } from '../../../src/data/dataset.js';
import { Model } from '../../../src/engine/model.js';
import { parseLayers } from '../../../src/layers/index.js';

export async function runParitySteps(device: GPUDevice, mnist: { train: Dataset; test: Dataset }) {
  const model = new Model(device, { layers: parseLayers('linear:100,relu,linear:10'), seed: 7, pixelMean: 0.1307, pixelStd: 0.3081 });
  const history = await model.fit(sliceDataset(mnist.train, 0, 20 * 64), { epochs: 1, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-3 }, progressEvery: 0 });
  const evaluation = await model.evaluate(sliceDataset(mnist.test, 0, 512));
  model.dispose();
  return { trainLoss: history[0].trainLoss, testLoss: evaluation.loss, testAccuracy: evaluation.accuracy };
}
