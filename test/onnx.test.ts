// ONNX export, checked by the real runtime: onnxruntime-node runs trained MNIST networks on a few hundred test
// images and must give predict's probabilities (within 1e-5, the same argmax), for any batch size; logits on
// request; an f32-feature model and a three-channel image; a kind that is no layer is refused. Every registered
// kind on its own is test/conformance.test.ts's.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { sliceDataset } from '../src/data/dataset.js';
import { Model } from '../src/engine/model.js';
import { encodeOnnx } from '../src/export/onnx.js';
import { parseLayers, type LayerSpec } from '../src/layers/index.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { expectClose, openTestDevice } from './helpers/gpu.js';
import { syntheticData, mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();
const mnist = loadMnist();
const train = sliceDataset(mnist.train, 0, 384, 'train');
const adam = { kind: 'adam' as const, lr: 2e-3 };

const argmax = (p: ArrayLike<number>, row: number, classes: number) => {
  let best = 0;
  for (let c = 1; c < classes; c++) if (p[row * classes + c] > p[row * classes + best]) best = c;
  return best;
};

async function run(bytes: Uint8Array, name: string, data: Uint8Array | Float32Array, count: number, features: number) {
  const session = await ort.InferenceSession.create(bytes);
  const input = data instanceof Uint8Array ? new ort.Tensor('uint8', data, [count, features]) : new ort.Tensor('float32', data, [count, features]);
  const out = await session.run({ [session.inputNames[0]]: input });
  return { names: [session.inputNames, session.outputNames], values: out[name].data as Float32Array, dims: out[name].dims };
}

describe('ONNX export in onnxruntime-node', () => {
  it.each([
    'linear:64,relu,dropout:0.3,linear:10',
    'conv2d:6:k=5,relu,maxpool2d:2,conv2d:8:k=3:stride=2:pad=1,batchnorm,tanh,maxpool2d:3:stride=2,flatten,linear:24,sigmoid,dropout:0.2,linear:10',
  ])('%s: probabilities within 1e-5 of predict, the same argmax, any batch size', async (layers) => {
    const model = new Model(gpu.device, { layers: parseLayers(layers), seed: 4, pixelMean: 0.1307, pixelStd: 0.3081 });
    await model.fit(train, { epochs: 1, batchSize: 64, optimizer: adam });
    const bytes = await model.toOnnx();
    const n = 300;
    const pixels = mnist.test.images.subarray(0, n * 784);
    const want = await model.predict(pixels, { count: n });
    const got = await run(bytes, 'probabilities', pixels, n, 784);
    expect(got.names).toEqual([['pixels'], ['probabilities']]);
    expect(got.dims).toEqual([n, 10]);
    expectClose(got.values, want, 1e-5, 0, `onnx ${layers}`);
    for (let r = 0; r < n; r++) expect(argmax(got.values, r, 10)).toBe(argmax(want, r, 10));
    const one = await run(bytes, 'probabilities', pixels.subarray(0, 784), 1, 784);
    expectClose(one.values, want.subarray(0, 10), 1e-5, 0, 'batch of one');
    const text = new TextDecoder().decode(bytes);
    for (const key of ['architecture', model.architecture.name, 'engine_version']) expect(text).toContain(key);
    model.dispose();
  });

  it('logits on request: their softmax is predict', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 32, 10]), seed: 2 });
    await model.fit(train, { epochs: 1, batchSize: 64, optimizer: adam });
    const n = 50;
    const pixels = mnist.test.images.subarray(0, n * 784);
    const logits = await run(await model.toOnnx({ softmax: false }), 'logits', pixels, n, 784);
    expect(logits.names[1]).toEqual(['logits']);
    const soft = new Float64Array(n * 10);
    for (let r = 0; r < n; r++) {
      const row = logits.values.subarray(r * 10, r * 10 + 10);
      const m = Math.max(...row);
      const sum = row.reduce((s, x) => s + Math.exp(x - m), 0);
      for (let c = 0; c < 10; c++) soft[r * 10 + c] = Math.exp(row[c] - m) / sum;
    }
    expectClose(soft, await model.predict(pixels, { count: n }), 1e-5, 0, 'softmax(logits)');
    model.dispose();
  });

  it('an f32-feature model takes features; a three-channel image is read channels-last, as the engine holds it', async () => {
    const flat = new Model(gpu.device, { ...mlpOptions([13, 9, 4]), input: 'f32', seed: 1 });
    const data = syntheticData(64, 13, 4, 3) as unknown as { images: Uint8Array };
    const features = Float32Array.from(data.images, (x) => x / 255 - 0.5);
    const want = await flat.predict(features, { count: 64 });
    const got = await run(await flat.toOnnx(), 'probabilities', features, 64, 13);
    expect(got.names[0]).toEqual(['features']);
    expectClose(got.values, want, 1e-5, 0, 'f32 features');
    flat.dispose();

    const image = new Model(gpu.device, { inputs: [3, 9, 7], layers: parseLayers('conv2d:5:k=3:pad=1,relu,maxpool2d:2,flatten,linear:6'), seed: 3 });
    const pixels = Uint8Array.from({ length: 40 * 189 }, (_, i) => (i * 53 + 7) % 256);
    const wantImage = await image.predict(pixels, { count: 40 });
    const gotImage = await run(await image.toOnnx(), 'probabilities', pixels, 40, 189);
    expectClose(gotImage.values, wantImage, 1e-5, 0, '3×9×7 image');
    image.dispose();
  });

  it('refuses a kind that is no layer, naming it', () => {
    // 'not_a_kind': no module can take it (kinds are lowercase letters and digits, test/conformance.test.ts).
    const state = { inputs: 784, layers: [{ kind: 'not_a_kind', kernel: 2 } as unknown as LayerSpec], seed: 0, input: 'u8' as const, tensors: new Map(), epochs: 0, step: 0 };
    expect(() => encodeOnnx(state)).toThrow(/unknown layer kind 'not_a_kind'/);
  });
});
