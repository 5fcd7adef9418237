// biasGrad, softmaxCrossEntropy / softmax and the optimizer updates against the float64 reference, odd shapes.
import { BATCH_UNIFORM_BYTES, packBatchUniform } from '../shaders/batchUniform.js';
import { UniformWords } from '../shaders/bindings.js';
import { biasGradUnsupported, type BiasGradVariant } from '../shaders/biasGrad.js';
import { ADAM_UNIFORM_BYTES, packAdamUniform, packSgdUniform, SGD_UNIFORM_BYTES } from '../shaders/optimizer.js';
import { describe, expect, it } from 'vitest';
import { readFloats, storageBuffer, uniformBuffer } from '../src/gpu/buffers.js';
import * as ref from '../src/reference/ops.js';
import { expectClose, gpuArray, openTestDevice, randomArray, runDispatches, testOps, withErrorScope } from './helpers/gpu.js';

const gpu = await openTestDevice();
const ops = testOps(gpu.device);
const device = gpu.device;

describe('biasGrad', () => {
  const variants: BiasGradVariant[] = [
    { workgroupSize: 64, vec4: false }, { workgroupSize: 64, vec4: true },
    { workgroupSize: 16, vec4: false, reduceRows: true }, { workgroupSize: 64, vec4: true, reduceRows: true }, { workgroupSize: 256, vec4: false, reduceRows: true },
  ];
  it.each([[1, 1], [37, 129], [129, 10], [128, 500], [300, 36]])('column sums of %i×%i, every variant that takes the shape', async (M, N) => {
    await withErrorScope(device, async () => {
      const dY = randomArray(M * N, M + N);
      const want = new Float64Array(N);
      ref.biasGrad(want, dY, M, N);
      for (const v of variants.filter((x) => biasGradUnsupported(x, M, N) === null)) {
        const out = storageBuffer(device, N * 4, 'dBias');
        const dispatch = ops.biasGrad({ buffer: out }, { buffer: gpuArray(device, dY) }, M, N, v);
        await runDispatches(device, [dispatch]);
        expectClose(await readFloats(device, out, 0, N), want, 1e-5, 1e-4, dispatch.label);
      }
    });
  });
});

describe('softmaxCrossEntropy', () => {
  it.each([
    [1, 3, 1, 'invocation'], [37, 10, 37, 'invocation'], [65, 7, 29, 'invocation'],
    [1, 3, 1, 'workgroup'], [37, 10, 37, 'workgroup'], [65, 129, 29, 'workgroup'],
  ] as const)('capacity %i, %i classes, %i rows present, one %s per row; stats accumulate', async (capacity, classes, rows, perRow) => {
    await withErrorScope(device, async () => {
      const logits = randomArray(capacity * classes, 3).map((x) => 6 * x);
      const labels = Uint32Array.from({ length: capacity }, (_, i) => (i * 7 + 3) % classes);
      const dLogits = storageBuffer(device, capacity * classes * 4, 'dLogits');
      const stats = storageBuffer(device, capacity * 8, 'stats');
      const batch = uniformBuffer(device, BATCH_UNIFORM_BYTES, 'batch');
      device.queue.writeBuffer(batch, 0, packBatchUniform(new UniformWords(BATCH_UNIFORM_BYTES), { rows }));
      const b = (buffer: GPUBuffer) => ({ buffer });
      const variant = { workgroupSize: perRow === 'workgroup' ? 32 : 64, perRow };
      const dispatch = ops.softmaxCrossEntropy(b(dLogits), b(stats), b(gpuArray(device, logits)), b(gpuArray(device, labels)), b(batch), capacity, classes, variant);
      await runDispatches(device, [dispatch, dispatch]); // twice: the stats must hold two steps' sums

      const wantGrad = new Float64Array(capacity * classes);
      const wantLoss = new Float64Array(rows);
      const correct = ref.softmaxCrossEntropy(wantGrad, wantLoss, logits, labels, rows, classes);
      expectClose(await readFloats(device, dLogits, 0, capacity * classes), wantGrad, 1e-6, 1e-4, 'dLogits');
      const got = await readFloats(device, stats, 0, capacity * 2);
      expectClose(got.filter((_, i) => i % 2 === 0), Array.from({ length: capacity }, (_, r) => (r < rows ? 2 * wantLoss[r] : 0)), 1e-5, 1e-5, 'loss sums');
      expect(got.filter((_, i) => i % 2 === 1).reduce((a, x) => a + x, 0)).toBe(2 * correct);
    });
  });

  it('softmax gives probabilities of each row', async () => {
    const [rows, classes] = [13, 9];
    const logits = randomArray(rows * classes, 9).map((x) => 10 * x);
    const out = storageBuffer(device, rows * classes * 4, 'probabilities');
    await runDispatches(device, [ops.softmax({ buffer: out }, { buffer: gpuArray(device, logits) }, rows, classes)]);
    // softmax = dLogits·rows + onehot, from the reference with every label 0.
    const want = new Float64Array(rows * classes);
    ref.softmaxCrossEntropy(want, new Float64Array(rows), logits, new Uint32Array(rows), rows, classes);
    for (let i = 0; i < want.length; i++) want[i] = want[i] * rows + (i % classes === 0 ? 1 : 0);
    expectClose(await readFloats(device, out, 0, rows * classes), want, 1e-6, 1e-5, 'softmax');
  });
});

describe('optimizer updates over a flat buffer', () => {
  const b = (buffer: GPUBuffer) => ({ buffer });

  it.each([
    { vec4: false, length: 37, decoupled: false, weightDecay: 0 },
    { vec4: true, length: 132, decoupled: false, weightDecay: 0.01 },
    { vec4: true, length: 132, decoupled: true, weightDecay: 0.05 },
  ])('adamUpdate: 5 steps, $length params, vec4 $vec4, decoupled $decoupled, wd $weightDecay', async ({ vec4, length, decoupled, weightDecay }) => {
    await withErrorScope(device, async () => {
      const c: ref.AdamConfig = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, decoupled };
      const p0 = randomArray(length, 1);
      const params = gpuArray(device, p0);
      const [m1, m2] = [storageBuffer(device, length * 4, 'm1'), storageBuffer(device, length * 4, 'm2')];
      const grads = storageBuffer(device, length * 4, 'grads');
      const uniform = uniformBuffer(device, ADAM_UNIFORM_BYTES, 'adam');
      const dispatch = ops.adamUpdate(b(params), b(m1), b(m2), b(grads), b(uniform), length, { workgroupSize: 64, vec4 });
      const want = { p: Float64Array.from(p0), m: new Float64Array(length), v: new Float64Array(length) };
      for (let t = 1; t <= 5; t++) {
        const g = randomArray(length, 10 + t);
        device.queue.writeBuffer(grads, 0, g);
        device.queue.writeBuffer(uniform, 0, packAdamUniform(new UniformWords(ADAM_UNIFORM_BYTES), { ...c, decoupled, step: t }));
        await runDispatches(device, [dispatch]);
        ref.adamUpdate(want.p, want.m, want.v, g, t, c);
      }
      expectClose(await readFloats(device, params, 0, length), want.p, 1e-6, 1e-5, 'params');
      // β2 = 0.999 rounds in float32, so (1 − β2) differs from the float64 value by ~5e-8 relative per step.
      expectClose(await readFloats(device, m2, 0, length), want.v, 1e-9, 1e-4, 'moment2');
    });
  });

  it.each([
    { vec4: false, length: 37, momentum: 0, nesterov: false, weightDecay: 0 },
    { vec4: true, length: 132, momentum: 0.9, nesterov: false, weightDecay: 0.001 },
    { vec4: false, length: 61, momentum: 0.9, nesterov: true, weightDecay: 0 },
  ])('sgdUpdate: 4 steps, momentum $momentum, nesterov $nesterov', async ({ vec4, length, momentum, nesterov, weightDecay }) => {
    await withErrorScope(device, async () => {
      const c: ref.SgdConfig = { lr: 0.1, momentum, dampening: 0, weightDecay, nesterov };
      const p0 = randomArray(length, 2);
      const params = gpuArray(device, p0);
      const velocity = storageBuffer(device, length * 4, 'velocity');
      const grads = storageBuffer(device, length * 4, 'grads');
      const uniform = uniformBuffer(device, SGD_UNIFORM_BYTES, 'sgd');
      const dispatch = ops.sgdUpdate(b(params), b(velocity), b(grads), b(uniform), length, { workgroupSize: 64, vec4 });
      const want = { p: Float64Array.from(p0), v: new Float64Array(length) };
      for (let t = 1; t <= 4; t++) {
        const g = randomArray(length, 20 + t);
        device.queue.writeBuffer(grads, 0, g);
        device.queue.writeBuffer(uniform, 0, packSgdUniform(new UniformWords(SGD_UNIFORM_BYTES), { ...c, step: t }));
        await runDispatches(device, [dispatch]);
        ref.sgdUpdate(want.p, want.v, g, t === 1, c);
      }
      expectClose(await readFloats(device, params, 0, length), want.p, 1e-6, 1e-5, 'params');
    });
  });

  it('refuses a vec4 update over a length that is not a multiple of 4', () => {
    const buf = { buffer: storageBuffer(device, 64, 'x') };
    expect(() => ops.adamUpdate(buf, buf, buf, buf, buf, 37, { workgroupSize: 64, vec4: true })).toThrow(/multiple of 4, got 37/);
  });
});
