// Layers as data: the written form, the checks on a layer list, PyTorch's indices, and the whole model's
// gradients with dropout and label smoothing against the float64 reference given the same masks.
import { describe, expect, it } from 'vitest';
import { saveCheckpoint, loadCheckpoint } from '../src/engine/checkpoint.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { architecture } from '../src/layers/architecture.js';
import { formatLayers, mlpLayerSpecs, parseLayers } from '../src/layers/index.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { trainingMatmuls } from '../src/tuning/autotune.js';
import { openTestDevice, withErrorScope } from './helpers/gpu.js';
import { expectGradientsClose, syntheticData, mlpOptions } from './helpers/model.js';
import { decodeSafetensors } from '../src/data/safetensors.js';
import { linearWidths, mlpArchitecture } from '../src/engine/mlp.js';

describe('layer lists', () => {
  it('parse and format round trip; widths and nn.Sequential indices follow the list', () => {
    const text = 'linear:300,relu,dropout:0.2,linear:100,relu,linear:10';
    const specs = parseLayers(text);
    expect(formatLayers(specs)).toBe(text);
    const arch = architecture(specs, 784);
    expect(linearWidths(arch)).toEqual([784, 300, 100, 10]);
    expect(arch.classes).toBe(10);
    // A Dropout takes an index, as in PyTorch: the Linears are 0, 3 and 5.
    expect(arch.layers.flatMap((l) => l.parameters.map((p) => `${p.name} [${p.shape}]`))).toEqual([
      '0.weight [784,300]', '0.bias [300]', '3.weight [300,100]', '3.bias [100]', '5.weight [100,10]', '5.bias [10]',
    ]);
    expect(formatLayers(mlpLayerSpecs([784, 500, 10]))).toBe('linear:500,relu,linear:10');
    expect(formatLayers(mlpLayerSpecs([784, 500, 300, 10], 0.5))).toBe('linear:500,relu,dropout:0.5,linear:300,relu,dropout:0.5,linear:10');
  });

  it.each([
    ['', /empty/],
    ['linear:500,not_a_kind,linear:10', /unknown layer kind 'not_a_kind' in 'not_a_kind' \(layer 1\): expected linear, conv2d/],
    ['linear:0,relu,linear:10', /linear takes its width, an integer in 1\.\.65536.*'0'/],
    ['linear:500,dropout:1,linear:10', /dropout takes the probability of dropping, in \[0, 1\).*'1'/],
    ['linear:500,relu:2,linear:10', /relu takes no argument/],
    ['relu,linear:10', /layer 0 \(relu\): the first layer reads the u8 pixels or f32 features, which only linear and conv2d can/],
    ['dropout:0.2,linear:10', /layer 0 \(dropout:0.2\): the first layer reads the u8 pixels/],
    ['linear:500,relu', /the last layer must be linear/],
    ['linear:1', /at least 2 classes, got 1/],
  ])('refuses %j with a message that names the problem', (text, message) => {
    expect(() => architecture(parseLayers(text), 784)).toThrow(message);
  });

  it("autotune's products walk the list: dropout adds none, the first layer has no input gradient", () => {
    const plain = trainingMatmuls(mlpArchitecture([784, 300, 100, 10]), 64);
    const withDropout = trainingMatmuls(architecture(parseLayers('linear:300,relu,dropout:0.2,linear:100,relu,linear:10'), 784), 64);
    expect(withDropout).toEqual(plain);
    expect(plain.map(([form]) => form)).toEqual(['nn', 'tn', 'nn', 'tn', 'nt', 'nn', 'tn', 'nt']);
  });
});

const gpu = await openTestDevice();

describe('whole-model gradients with dropout and label smoothing', () => {
  it.each([
    { layers: 'linear:13,relu,dropout:0.3,linear:7', inputs: 29, rows: 11, labelSmoothing: 0, step: 5 },
    { layers: 'linear:16,relu,dropout:0.5,dropout:0.2,linear:9,relu,dropout:0.25,linear:5', inputs: 20, rows: 37, labelSmoothing: 0.1, step: 12345 },
    { layers: 'linear:12,relu,linear:6', inputs: 31, rows: 9, labelSmoothing: 0.2, step: 1 },
  ])('$layers, ε $labelSmoothing, step $step', async ({ layers, inputs, rows, labelSmoothing, step }) => {
    await withErrorScope(gpu.device, async () => {
      const arch = architecture(parseLayers(layers), inputs);
      const model = new Model(gpu.device, { layers: parseLayers(layers), inputs, seed: 11 });
      const data = syntheticData(rows, inputs, arch.classes, 5);
      const params = await model.getParams();
      const got = await model.gradients(data, { step, labelSmoothing });
      const want = mlpForwardBackward(params, modelInternals(model).parameters.layout, arch, data.images, data.labels, rows, 1, 0, { seed: 11, step, labelSmoothing });
      expectGradientsClose(got, want.grads, modelInternals(model).parameters.layout.tensors);
      // Another step draws other masks: the gradients change (when there is a dropout).
      if (layers.includes('dropout')) {
        const other = await model.gradients(data, { step: step + 1, labelSmoothing });
        expect(Array.from(other)).not.toEqual(Array.from(got));
      }
      model.dispose();
    });
  });

  it('evaluation and prediction skip dropout; a checkpoint keeps the list and loads into the same model', async () => {
    const layers = parseLayers('linear:24,relu,dropout:0.4,linear:10');
    const model = new Model(gpu.device, { layers, seed: 2 });
    const data = syntheticData(40, 784, 10, 9);
    const arch = model.architecture;
    const want = mlpForwardBackward(await model.getParams(), modelInternals(model).parameters.layout, arch, data.images, data.labels, 40, 1, 0, { training: false });
    const evaluation = await model.evaluate(data);
    expect(Math.abs(evaluation.loss - want.loss)).toBeLessThan(1e-5);
    const bytes = await saveCheckpoint(model);
    const file = decodeSafetensors(bytes, 'd.safetensors');
    expect([...file.tensors.keys()]).toEqual(['0.weight', '0.bias', '3.weight', '3.bias']);
    expect(file.metadata.layers).toBe('linear:24,relu,dropout:0.4,linear:10');
    const plain = new Model(gpu.device, { ...mlpOptions([784, 24, 10]) });
    expect(() => loadCheckpoint(plain, file, 'd.safetensors')).toThrow(/holds the model 784 → linear:24,relu,dropout:0.4,linear:10, this one is 784 → linear:24,relu,linear:10/);
    const copy = new Model(gpu.device, { layers: parseLayers('linear:24,relu,dropout:0.1,linear:10') });
    loadCheckpoint(copy, file, 'd.safetensors');
    expect(Array.from(await copy.getParams())).toEqual(Array.from(await model.getParams()));
    for (const m of [model, plain, copy]) m.dispose();
  });
});
