// Trains two small models in the page (every layer kind between them), exports each with toOnnx() and runs the
// bytes in onnxruntime-web on its WASM and WebGPU backends beside the engine's own predict, on 300 test images.
import * as ort from 'onnxruntime-web/webgpu';
import { parseMnist } from '../../../src/data/mnist.js';
import { fetchMnistBytes } from '../../../src/data/mnistFetch.js';
import { sliceDataset } from '../../../src/data/dataset.js';
import { openBrowserDevice } from '../../../src/gpu/device.js';
import { Model } from '../../../src/engine/model.js';
import { parseLayers } from '../../../src/layers/index.js';

export const ONNX_WEB_MODELS = [
  'linear:48,relu,dropout:0.3,linear:24,batchnorm,tanh,linear:16,sigmoid,linear:12,gelu,linear:10',
  'conv2d:8:k=5,relu,maxpool2d:2,conv2d:16:k=3:stride=2:pad=1,batchnorm,relu,maxpool2d:3:stride=2,flatten,linear:10',
];
// onnxruntime-web 1.30's WebGPU Conv gives wrong outputs for some channel counts on SwiftShader: a 6-channel
// input to a 3×3 convolution with 8 outputs (`conv2d:6:k=3,conv2d:8:k=3,flatten,linear:10`) is off by up to 0.4
// while its WASM backend matches the engine to 2e-6; open `onnxWeb.html?models=LIST;LIST` to try a list.
const COUNT = 300;

interface BackendResult { backend: string; maxDiff: number; argmaxAgree: number; dims: readonly number[] }

const argmax = (p: ArrayLike<number>, row: number) => {
  let best = 0;
  for (let c = 1; c < 10; c++) if (p[row * 10 + c] > p[row * 10 + best]) best = c;
  return best;
};

async function main() {
  // The WASM files as the package ships them; one thread (the test page is not cross-origin isolated).
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = 1;
  const mnist = parseMnist(await fetchMnistBytes({ gzip: true }));
  const gpu = await openBrowserDevice();
  const train = sliceDataset(mnist.train, 0, 256, 'train');
  const pixels = mnist.test.images.subarray(0, COUNT * 784);
  const models: { layers: string; backends: BackendResult[] }[] = [];
  const asked = new URLSearchParams(location.search).get('models');
  for (const layers of asked ? asked.split(';') : ONNX_WEB_MODELS) {
    const model = new Model(gpu.device, { layers: parseLayers(layers), seed: 3, pixelMean: 0.1307, pixelStd: 0.3081 });
    await model.fit(train, { epochs: 1, batchSize: 64, optimizer: { kind: 'adam', lr: 2e-3 } });
    const want = await model.predict(pixels, { count: COUNT });
    const bytes = await model.toOnnx();
    const backends: BackendResult[] = [];
    for (const backend of ['wasm', 'webgpu']) {
      const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend] });
      const out = await session.run({ pixels: new ort.Tensor('uint8', pixels, [COUNT, 784]) });
      const got = out.probabilities.data as Float32Array;
      let maxDiff = 0;
      let argmaxAgree = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
      for (let r = 0; r < COUNT; r++) if (argmax(got, r) === argmax(want, r)) argmaxAgree++;
      backends.push({ backend, maxDiff, argmaxAgree, dims: out.probabilities.dims });
      await session.release();
    }
    models.push({ layers, backends });
    model.dispose();
  }
  (window as unknown as { onnxWeb: unknown }).onnxWeb = { models, count: COUNT, adapter: gpu.adapterInfo };
}

main().catch((e) => {
  (window as unknown as { onnxWeb: unknown }).onnxWeb = { error: String(e?.stack ?? e?.message ?? e) };
});
