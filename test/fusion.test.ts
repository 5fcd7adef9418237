// The fusion pass (src/engine/fusion.ts) runs any elementwise activation inside its neighbours: its forward as
// the epilogue of the linear, conv2d or batchnorm before it, its backward inside the input-gradient kernel of
// the linear, conv2d, maxpool2d, avgpool2d, flatten or dropout after it. Each activation, in every one of those
// places, fused against the plan that runs every layer's own kernels: ReLU bit for bit up to the sign of a zero
// (the same operations in the same order; lavapipe's compiler may give a zero gradient either sign, with or
// without fusion), the others within 1e-6 (the same expressions, which a compiler may contract differently once
// they sit in one kernel).
import { describe, expect, it } from 'vitest';
import { Model, modelInternals } from '../src/engine/model.js';
import { architecture } from '../src/layers/architecture.js';
import { LAYER_KINDS, LAYER_MODULES, parseLayers } from '../src/layers/index.js';
import { expectClose, openTestDevice, withErrorScope } from './helpers/gpu.js';
import { syntheticData } from './helpers/model.js';

const gpu = await openTestDevice();

// Every registered activation (relu, tanh, sigmoid, gelu, leakyrelu, …); one with arguments at its first
// written example that has them ('leakyrelu:0.2').
const ACTIVATIONS = LAYER_KINDS.filter((kind) => LAYER_MODULES[kind].elementwise)
  .map((kind) => LAYER_MODULES[kind].examples.map((e) => e.layer).find((layer) => layer.includes(':')) ?? kind);
// A for the activation. Features: after linear (twice) and batchnorm; before dropout and linear.
// Images: after conv2d (twice, once before another conv2d), before maxpool2d; one after the pool (its own
// forward) before avgpool2d; one after a 1×1 conv2d before flatten.
const MODELS: [string, number[]][] = [
  ['linear:12,A,dropout:0.25,linear:10,batchnorm,A,linear:3', [9]],
  ['conv2d:3:k=3:pad=1,A,conv2d:4:k=3:pad=1,A,maxpool2d:2,A,avgpool2d:2:stride=1,conv2d:4:k=1,A,flatten,linear:3', [1, 9, 9]],
];

describe.each(ACTIVATIONS)('%s fused against unfused', (activation) => {
  it.each(MODELS)('%s', async (written, input) => {
    await withErrorScope(gpu.device, async () => {
      const specs = parseLayers(written.replaceAll('A', activation));
      const arch = architecture(specs, input);
      const data = syntheticData(7, arch.inputs, arch.classes, 4);
      const run = async (fuse: boolean) => {
        const model = new Model(gpu.device, { layers: specs, inputs: input, seed: 6, fuse, pixelMean: 0.1, pixelStd: 0.3 });
        const grads = await model.gradients(data, { step: 2 });
        const probabilities = await model.predict(data.images);
        const plan = modelInternals(model).plan('train', 7);
        const kernels = plan.forward.length + plan.backward.length;
        model.dispose();
        return { grads, probabilities, kernels };
      };
      const fused = await run(true);
      const unfused = await run(false);
      if (activation === 'relu') {
        const bits = (values: Float32Array) => new Uint32Array(values.map((v) => (v === 0 ? 0 : v)).buffer);
        expect(bits(fused.grads)).toEqual(bits(unfused.grads));
        expect(bits(fused.probabilities)).toEqual(bits(unfused.probabilities));
      } else {
        expectClose(fused.grads, unfused.grads, 1e-6, 1e-6, `${activation} gradients`);
        expectClose(fused.probabilities, unfused.probabilities, 1e-6, 1e-6, `${activation} probabilities`);
      }
      expect(fused.kernels).toBeLessThan(unfused.kernels);
    });
  });
});

describe('fewer dispatches', () => {
  it.each([
    // gelu's backward reads x: its forward runs on its own in training, its backward inside the next product.
    ['linear:500,gelu,linear:10', 1, [784]],
    // tanh's backward reads y: both halves fuse, twice.
    ['conv2d:8:k=5,tanh,maxpool2d:2,conv2d:16:k=5,tanh,maxpool2d:2,flatten,linear:10', 4, [1, 28, 28]],
  ] as const)('%s: the training step has %i fewer', (written, fewer, input) => {
    const count = (fuse: boolean) => {
      const model = new Model(gpu.device, { layers: parseLayers(written), inputs: [...input], seed: 1, fuse });
      const plan = modelInternals(model).plan('train', 4);
      const kernels = plan.forward.length + plan.backward.length;
      model.dispose();
      return kernels;
    };
    expect(count(false) - count(true)).toBe(fewer);
  });
});
