// A web project's page, written as the README's "MNIST in your page" says: MNIST through the exported loader
// (gzipped files from the package's Vite plugin), a few training steps, save and reload in one call each
// (safetensors bytes, a URL, IndexedDB and a download), and a fit cancelled with an AbortSignal at a chosen step.
import {
  Model, downloadModel, fetchMnistBytes, listModelsInIndexedDB, loadModel, loadModelFromIndexedDB, openBrowserDevice, parseLayers, parseMnist, saveModelToIndexedDB, splitMnist,
  MNIST_MEAN, MNIST_STD, type EpochInfo,
} from 'webgpu-mlp';

async function main() {
  const { device, adapterInfo } = await openBrowserDevice();
  let downloaded = 0;
  const mnist = splitMnist(parseMnist(await fetchMnistBytes({ gzip: true, onProgress: (received) => (downloaded = received) })), { limit: 1000, validationSize: 200 });
  const model = new Model(device, { layers: parseLayers('linear:64,relu,linear:10'), seed: 1, pixelMean: MNIST_MEAN, pixelStd: MNIST_STD });
  const before = await model.evaluate(mnist.validation);
  const history: EpochInfo[] = await model.fit(mnist.train, { epochs: 2, batchSize: 50, optimizer: { kind: 'adam', lr: 2e-3 } });
  const after = await model.evaluate(mnist.validation);

  const bytes = await model.toSafetensors();
  const copy = Model.fromSafetensors(device, bytes);
  const fromUrl = await loadModel(device, URL.createObjectURL(new Blob([bytes])));
  await saveModelToIndexedDB(model, 'consumer-test');
  const stored = await loadModelFromIndexedDB(device, 'consumer-test');
  // Model.load takes the same sources in one call; a name nothing is saved under is refused by name.
  const loadedStored = await Model.load(device, { indexedDB: 'consumer-test' });
  const loadedUrl = await Model.load(device, URL.createObjectURL(new Blob([bytes])));
  const missing = await Model.load(device, { indexedDB: 'no-such-model' }).then(() => 'loaded', (e: Error) => `${e.name}: ${e.message}`);
  const listed = (await listModelsInIndexedDB()).map((m) => `${m.name}: ${m.architecture}`);
  const probabilities = await model.predict(mnist.validation.images, { count: 5 });
  const same = async (m: Model) => (await m.predict(mnist.validation.images, { count: 5 })).every((p, i) => p === probabilities[i]);

  await downloadModel(model, 'consumer.safetensors');
  const stepsBefore = model.step;
  const controller = new AbortController();
  let steps = 0;
  const stopAt = 7;
  const cancelled = await model.fit(mnist.train, {
    epochs: 1, batchSize: 50, optimizer: { kind: 'adam', lr: 2e-3 }, signal: controller.signal,
    onStep: () => ++steps === stopAt && controller.abort(),
  });
  return {
    adapter: adapterInfo.description, downloaded, before, after, epochs: history.length,
    copyMatches: await same(copy), urlMatches: await same(fromUrl), storedMatches: await same(stored),
    loadMatches: (await same(loadedStored)) && (await same(loadedUrl)), loadedEpochs: loadedStored.epochs, missing, listed,
    cancelled: { steps, stepsBefore, modelStep: model.step, partial: cancelled[0]?.partial ?? false },
  };
}

main().then(
  (result) => Object.assign(window, { result }),
  (e: Error) => Object.assign(window, { result: { error: String(e?.stack ?? e) } }),
);
