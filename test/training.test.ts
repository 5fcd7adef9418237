// The training loop: steps match the float64 reference, a step allocates nothing, writes only its uniforms and
// submits at most once, and a short run on real MNIST clears an accuracy bar.
import { describe, expect, it } from 'vitest';
import { sliceDataset } from '../src/data/dataset.js';
import { splitMnist } from '../src/data/mnist.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { Random } from '../src/gpu/random.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { adamUpdate, sgdUpdate } from '../src/reference/ops.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { expectClose, openTestDevice } from './helpers/gpu.js';
import { mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();
const mnist = loadMnist();

describe('training steps against the float64 reference', () => {
  it.each(['adam', 'sgd'] as const)('%s: one shuffled epoch of 5 batches (the last one short) ends at the reference weights', async (kind) => {
    const sizes = [784, 24, 10];
    const data = sliceDataset(mnist.train, 0, 300, 'train');
    const batchSize = 64;
    const model = new Model(gpu.device, { ...mlpOptions(sizes), seed: 4 });
    const params = Float64Array.from(await model.getParams());
    const layout = modelInternals(model).parameters.layout;
    const optimizer = kind === 'adam' ? { kind, lr: 1e-3 } : { kind, lr: 0.05, momentum: 0.9 };
    await model.fit(data, { epochs: 1, batchSize, optimizer, progressEvery: 0 });

    // Replay: the model's Random drew the initial weights, then the epoch's shuffle.
    const random = new Random(4);
    for (let i = 0; i < layout.parameterCount; i++) random.next();
    const order = random.shuffle(Uint32Array.from({ length: data.count }, (_, i) => i));
    const m1 = new Float64Array(params.length);
    const m2 = new Float64Array(params.length);
    for (let start = 0, t = 1; start < data.count; start += batchSize, t++) {
      const rows = Math.min(batchSize, data.count - start);
      const pixels = new Uint8Array(rows * 784);
      const labels = new Uint8Array(rows);
      for (let r = 0; r < rows; r++) {
        pixels.set(data.images.subarray(order[start + r] * 784, (order[start + r] + 1) * 784), r * 784);
        labels[r] = data.labels[order[start + r]];
      }
      const { grads } = mlpForwardBackward(params, layout, sizes, pixels, labels, rows);
      if (kind === 'adam') adamUpdate(params, m1, m2, grads, t, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false });
      else sgdUpdate(params, m1, grads, t === 1, { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false });
    }
    // Adam divides by √v: a gradient that is ~0 in float64 can take a full lr-sized step in float32, so the
    // bar is a fraction of one step (lr = 1e-3) per element.
    expectClose(await model.getParams(), params, kind === 'adam' ? 2e-4 : 1e-5, 1e-3, `${kind} parameters after 5 steps`);
    model.dispose();
  });
});

describe('the training loop', () => {
  // 21 steps; counting starts once the first submission has gone. From the host a step writes pixels, labels
  // and two uniforms (Batch, optimizer); with the training set in GPU memory only the uniforms, or with several
  // steps per submission one ring write per submission.
  it.each([
    { stepsPerSubmit: 1, gpuResidentData: false, want: { submit: 20, writeBuffer: 80 } },
    { stepsPerSubmit: 1, gpuResidentData: true, want: { submit: 20, writeBuffer: 40 } },
    { stepsPerSubmit: 4, gpuResidentData: true, want: { submit: 5, writeBuffer: 5 } },
  ])('makes no buffers, bind groups or pipelines after the first step, and submits and writes as little as it can: $stepsPerSubmit step(s) per submit, data on the GPU: $gpuResidentData', async ({ stepsPerSubmit, gpuResidentData, want }) => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 32, 10]), seed: 1 });
    const data = sliceDataset(mnist.train, 0, 21 * 16, 'train');
    const device = gpu.device as unknown as Record<string, (...args: unknown[]) => unknown>;
    const queue = gpu.device.queue as unknown as Record<string, (...args: unknown[]) => unknown>;
    const counts: Record<string, number> = {};
    let counting = false;
    const restore: (() => void)[] = [];
    const watch = (target: Record<string, (...args: unknown[]) => unknown>, name: string) => {
      const original = target[name];
      target[name] = function (this: unknown, ...args: unknown[]) {
        if (counting) counts[name] = (counts[name] ?? 0) + 1;
        return original.apply(this, args);
      };
      restore.push(() => { target[name] = original; });
    };
    for (const name of ['createBuffer', 'createBindGroup', 'createComputePipeline', 'createComputePipelineAsync', 'createShaderModule']) watch(device, name);
    watch(queue, 'submit');
    watch(queue, 'writeBuffer');
    try {
      await model.fit(data, {
        epochs: 1, batchSize: 16, optimizer: { kind: 'adam', lr: 1e-3 }, progressEvery: 0, stepsPerSubmit, gpuResidentData,
        onStep: (s) => { if (s.step === 1) counting = true; },
      });
    } finally {
      restore.forEach((r) => r());
    }
    // The full kernels of the products that started on quick twins (Ops.matmul) may begin compiling after step
    // 1, in the background: once each, never per step. 784-32-10 has five: nn and tn of each layer, and nt.
    const background = counts.createComputePipelineAsync ?? 0;
    expect(background).toBeLessThanOrEqual(5);
    expect(counts.createShaderModule ?? 0).toBe(background);
    delete counts.createComputePipelineAsync;
    delete counts.createShaderModule;
    expect(counts).toEqual(want);
    model.dispose();
  });

  it('trains on 5,000 MNIST images to ≥ 90 % on 1,000 held-out images', async () => {
    const splits = splitMnist(mnist, { validationSize: 1000, limit: 5000 });
    const model = new Model(gpu.device, { seed: 0 });
    const history = await model.fit(splits.train, { epochs: 2, batchSize: 64, optimizer: { kind: 'adam', lr: 1e-3 }, validation: splits.validation });
    const last = history[history.length - 1];
    console.log(`5,000 images, 2 epochs: validation accuracy ${(100 * last.validation!.accuracy).toFixed(2)} %`);
    expect(last.validation!.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(history[1].trainLoss).toBeLessThan(history[0].trainLoss);
    model.dispose();
  });
});
