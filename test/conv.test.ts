// Convolutional networks: the written form and shape checks of whole lists, whole-model gradients of CNNs
// whose kinds meet each other (batch norm, ReLU fusion on both sides, dropout, strides and padding) against the
// reference, and the fused plan against the unfused one. Each kind on its own, every kind in the registry, is
// test/conformance.test.ts's.
import { describe, expect, it } from 'vitest';
import { Model, modelInternals } from '../src/engine/model.js';
import { architecture } from '../src/layers/architecture.js';
import { formatLayers, parseLayers } from '../src/layers/index.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { trainingMatmuls } from '../src/tuning/autotune.js';
import { openTestDevice, withErrorScope } from './helpers/gpu.js';
import { expectGradientsClose, syntheticData } from './helpers/model.js';

describe('CNN layer lists', () => {
  it('parse and format round trip; shapes follow the list as nn.Conv2d and nn.MaxPool2d give them', () => {
    const text = 'conv2d:8:k=5:pad=2,relu,maxpool2d:2,conv2d:16:k=3:stride=2,tanh,maxpool2d:3:stride=2,flatten,linear:10';
    const specs = parseLayers(text);
    expect(formatLayers(specs)).toBe(text);
    const arch = architecture(specs, [1, 28, 28]);
    expect(arch.layers.map((l) => l.outputShape.join('×'))).toEqual(['8×28×28', '8×28×28', '8×14×14', '16×6×6', '16×6×6', '16×2×2', '64', '10']);
    expect(arch.layers[0].parameters.map((p) => `${p.name} [${p.shape}] torch [${p.torchShape ?? ''}]`)).toEqual([
      '0.weight [25,8] torch [8,1,5,5]', '0.bias [8] torch []',
    ]);
    expect(arch.name).toBe(`1×28×28 → ${text}`);
  });

  it.each([
    ['conv2d:8,relu,flatten,linear:10', /layer 0 \('conv2d:8'\): conv2d needs its kernel size k=1\.\.15/],
    ['conv2d:8:k=3:size=2,flatten,linear:10', /conv2d option 'size=2' is not one of k=N, stride=N, pad=N/],
    ['conv2d:8:k=3:pad=x,flatten,linear:10', /conv2d option pad must be a non-negative integer, got 'x'/],
    ['conv2d:8:k=15,conv2d:4:k=15,flatten,linear:10', /layer 1 \(conv2d:4:k=15\) cannot take its input 8×14×14: a 15×15 kernel with padding 0 does not fit a 8×14×14 image/],
    ['conv2d:8:k=3,linear:10', /layer 1 \(linear:10\) cannot take its input 8×26×26: linear takes a feature vector, not a 8×26×26 image: put flatten before it/],
    ['flatten,linear:100,relu,maxpool2d:2,linear:10', /layer 0 \(flatten\): the first layer reads the u8 pixels or f32 features, which only linear and conv2d can/],
    ['linear:100,relu,maxpool2d:2,linear:10', /layer 0 \(linear:100\) cannot take its input 1×28×28: linear takes a feature vector, not a 1×28×28 image: put flatten before it/],
    ['conv2d:4:k=3,flatten,relu,maxpool2d:2,linear:10', /layer 3 \(maxpool2d:2\) cannot take its input 2704: maxpool2d takes a channels × height × width image, not 2704 features/],
    ['conv2d:4:k=15,maxpool2d:15,flatten,linear:10', /layer 1 \(maxpool2d:15\) cannot take its input 4×14×14: a 15×15 window does not fit a 4×14×14 image/],
    ['conv2d:4:k=3,flatten,flatten,linear:10', /flatten takes a channels × height × width image; its input is already 2704 features/],
    ['conv2d:4:k=3,flatten,gelu:2,linear:10', /gelu takes no argument/],
  ])('refuses %j, naming the layer and why', (text, message) => {
    expect(() => architecture(parseLayers(text), [1, 28, 28])).toThrow(message);
  });

  it("autotune's products include every convolution product (the first has no input gradient)", () => {
    const arch = architecture(parseLayers('conv2d:4:k=3:pad=1,relu,maxpool2d:2,conv2d:6:k=3,relu,flatten,linear:10'), [1, 9, 9]);
    expect(trainingMatmuls(arch, 5).map(([form, s]) => `${form} ${s.M}×${s.N}×${s.K}`)).toEqual([
      'nn 405×4×9', 'tn 9×4×405', // conv 0 over 5 images of 9×9 positions, K = 1·3·3
      'nn 20×6×36', 'tn 36×6×20', 'nt 20×36×6', // conv 3: 5 × 2×2 positions, K = 4·3·3
      'nn 5×10×24', 'tn 24×10×5', 'nt 5×24×10',
    ]);
  });
});

const gpu = await openTestDevice();

describe('whole-model gradients of CNNs against the float64 reference', () => {
  it.each([
    { layers: 'conv2d:3:k=3:pad=1,relu,maxpool2d:2,dropout:0.25,flatten,linear:5', input: [1, 9, 7], rows: 37 },
    { layers: 'conv2d:4:k=3:stride=2:pad=2,tanh,conv2d:5:k=2,relu,flatten,linear:6', input: [3, 11, 9], rows: 1 },
    { layers: 'conv2d:6:k=1,relu,conv2d:3:k=3:pad=1,relu,maxpool2d:2,flatten,relu,linear:7', input: [3, 5, 7], rows: 9 },
    // A ReLU's mask inside average pooling's backward (fused), a leaky ReLU after it.
    { layers: 'conv2d:4:k=3:pad=1,relu,avgpool2d:3:stride=2,leakyrelu:0.1,flatten,linear:5', input: [1, 9, 8], rows: 7 },
    { layers: 'conv2d:4:k=3:pad=1,batchnorm,relu,maxpool2d:2,dropout:0.2,flatten,linear:9,batchnorm,relu,linear:5', input: [1, 7, 9], rows: 37 },
    { layers: 'conv2d:5:k=3:stride=2,batchnorm,tanh,flatten,batchnorm,linear:3', input: [3, 9, 9], rows: 6 },
  ])('$layers on $input × $rows', async ({ layers, input, rows }) => {
    await withErrorScope(gpu.device, async () => {
      const specs = parseLayers(layers);
      const arch = architecture(specs, input);
      const data = syntheticData(rows, arch.inputs, arch.classes, 3);
      for (const fuse of [true, false]) {
        const model = new Model(gpu.device, { layers: specs, inputs: input, seed: 5, fuse, pixelMean: 0.1, pixelStd: 0.3 });
        const params = await model.getParams();
        const got = await model.gradients(data, { step: 3 });
        const want = mlpForwardBackward(params, modelInternals(model).parameters.layout, arch, data.images, data.labels, rows, 1 / 0.3, -0.1 / 0.3, { seed: 5, step: 3 });
        expectGradientsClose(got, want.grads, modelInternals(model).parameters.layout.tensors);
        model.dispose();
      }
    });
  });
});

describe('fusion is a rewrite of the plan that changes no number', () => {
  it.each([
    'linear:13,relu,dropout:0.3,linear:7',
    'linear:12,relu,relu,tanh,linear:9,relu,linear:5',
    'conv2d:4:k=3:pad=1,relu,maxpool2d:2,relu,flatten,linear:11,relu,dropout:0.2,linear:6',
  ])('%s: the same loss, gradients and predictions bit for bit', async (layers) => {
    await withErrorScope(gpu.device, async () => {
      const specs = parseLayers(layers);
      const input = specs[0].kind === 'conv2d' ? [1, 9, 9] : [29];
      const arch = architecture(specs, input);
      const data = syntheticData(21, arch.inputs, arch.classes, 8);
      const run = async (fuse: boolean) => {
        const model = new Model(gpu.device, { layers: specs, inputs: input, seed: 9, fuse });
        const grads = await model.gradients(data, { step: 2 });
        const probabilities = await model.predict(data.images);
        const evaluation = await model.evaluate(data);
        const plan = modelInternals(model).plan('train', 21);
        const kernels = [...plan.forward, ...plan.backward].length;
        model.dispose();
        return { grads: Array.from(grads), probabilities: Array.from(probabilities), loss: evaluation.loss, kernels };
      };
      const fused = await run(true);
      const unfused = await run(false);
      expect(fused.grads).toEqual(unfused.grads);
      expect(fused.probabilities).toEqual(unfused.probabilities);
      expect(fused.loss).toBe(unfused.loss);
      expect(fused.kernels).toBeLessThan(unfused.kernels);
    });
  });
});

describe('batch norm', () => {
  it('a training step updates the running estimates as PyTorch does; evaluation uses them', async () => {
    await withErrorScope(gpu.device, async () => {
      const specs = parseLayers('conv2d:3:k=3,batchnorm,relu,flatten,linear:4');
      const input = [2, 6, 5];
      const model = new Model(gpu.device, { layers: specs, inputs: input, seed: 4 });
      const data = syntheticData(13, 60, 4, 2);
      await model.gradients(data);
      const state = await model.exportState();
      const arch = model.architecture;
      // The batch statistics of the convolution's output, from the float64 twin of the convolution.
      const conv = arch.layers[0];
      const params = await model.getParams();
      const layout = modelInternals(model).parameters.layout;
      const tensor = (name: string) => { const s = layout.tensors.find((t) => t.name === name)!; return Float64Array.from(params.subarray(s.offset, s.offset + s.length)); };
      const x = Float64Array.from(data.images, (p) => p / 255);
      const y = conv.module.referenceForward(x, { spec: conv.spec, place: conv, rows: 13, param: (r) => tensor(`0.${r}`), grad: () => new Float64Array(), state: () => new Float64Array(), seed: 0, step: 1, training: true });
      const M = 13 * 4 * 3; // rows × positions
      for (let c = 0; c < 3; c++) {
        let mean = 0;
        for (let m = 0; m < M; m++) mean += y[m * 3 + c] / M;
        let variance = 0;
        for (let m = 0; m < M; m++) variance += (y[m * 3 + c] - mean) ** 2 / (M - 1);
        expect(state.tensors.get('1.running_mean')!.data[c]).toBeCloseTo(0.1 * mean, 6);
        expect(state.tensors.get('1.running_var')!.data[c]).toBeCloseTo(0.9 + 0.1 * variance, 6);
      }
      expect(state.tensors.get('1.num_batches_tracked')).toMatchObject({ shape: [], dtype: 'I64' });
      // Evaluation normalizes by the running estimates: the reference in evaluation mode, given them, agrees.
      const internals = modelInternals(model).parameters;
      const kept = await internals.downloadState();
      const want = mlpForwardBackward(params, layout, arch, data.images, data.labels, 13, 1, 0, { training: false, state: { values: kept, layout: internals.stateLayout } });
      const evaluation = await model.evaluate(data);
      expect(Math.abs(evaluation.loss - want.loss)).toBeLessThan(1e-5);
      // Saved and loaded, the running estimates come back.
      const copy = Model.fromSafetensors(gpu.device, await model.toSafetensors(), 'bn.safetensors');
      expect(Array.from(await modelInternals(copy).parameters.downloadState())).toEqual(Array.from(kept));
      expect((await copy.evaluate(data)).loss).toBe(evaluation.loss);
      for (const m of [model, copy]) m.dispose();
    });
  });
});

describe('CNN training', () => {
  it('GPU-resident batches, several steps per submission and a short last batch train a batch-norm CNN to the uploaded result bit for bit', async () => {
    await withErrorScope(gpu.device, async () => {
      const specs = parseLayers('conv2d:4:k=3:pad=1,batchnorm,relu,maxpool2d:2,dropout:0.2,flatten,linear:10');
      const input = [1, 10, 10];
      const data = syntheticData(53, 100, 10, 6); // batches of 16: the last holds 5 rows
      const train = async (gpuResidentData: boolean, stepsPerSubmit: number) => {
        const model = new Model(gpu.device, { layers: specs, inputs: input, seed: 3 });
        const history = await model.fit(data, { epochs: 2, batchSize: 16, optimizer: { kind: 'adam', lr: 1e-2 }, progressEvery: 3, gpuResidentData, stepsPerSubmit });
        const state = await model.exportState();
        model.dispose();
        return { history: history.map((h) => [h.trainLoss, h.trainAccuracy]), tensors: [...state.tensors.values()].map((t) => Array.from(t.data)) };
      };
      const uploaded = await train(false, 1);
      const resident = await train(true, 3);
      expect(resident.history).toEqual(uploaded.history);
      expect(resident.tensors).toEqual(uploaded.tensors);
      expect(uploaded.history[1][0]).toBeLessThan(uploaded.history[0][0]);
    });
  });
});
