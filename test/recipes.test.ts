// Training recipes: schedule values against PyTorch's formulas, label smoothing and dropout kernels against
// the float64 reference, the dropout mask's reproducibility and keep ratio, max-norm, early stopping with the
// best weights restored, and a bit-for-bit resume of a run that uses all of them.
import { describe, expect, it } from 'vitest';
import { BATCH_UNIFORM_BYTES, packBatchUniform } from '../shaders/batchUniform.js';
import { UniformWords } from '../shaders/bindings.js';
import { sliceDataset } from '../src/data/dataset.js';
import { readFloats, uniformBuffer } from '../src/gpu/buffers.js';
import { loadCheckpoint, saveCheckpoint } from '../src/engine/checkpoint.js';
import { Model, type FitOptions } from '../src/engine/model.js';
import { formatSchedule, parseSchedule, scheduledLearningRate, type ScheduleConfig } from '../src/engine/schedule.js';
import { parseLayers } from '../src/layers/index.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import * as ref from '../src/reference/ops.js';
import { gpu as dropoutGpu, reference as dropoutRef } from '../src/layers/dropout.js';
import { expectClose, gpuArray, openTestDevice, randomArray, runDispatches, testOps, withErrorScope } from './helpers/gpu.js';
import { activationNamed } from './helpers/matmul.js';
import { mlpOptions } from './helpers/model.js';

// PyTorch's closed forms, written out as its documentation gives them (t: scheduler steps taken so far).
const torchCosine = (base: number, etaMin: number, t: number, tMax: number) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
const torchStep = (base: number, gamma: number, stepSize: number, epoch: number) => base * gamma ** Math.floor(epoch / stepSize);
function torchOneCycle(maxLr: number, total: number, t: number, pctStart = 0.3, div = 25, finalDiv = 1e4): number {
  const initial = maxLr / div;
  const min = initial / finalDiv;
  const phaseEnd = pctStart * total - 1;
  const cos = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  return t <= phaseEnd ? cos(initial, maxLr, t / phaseEnd) : cos(maxLr, min, (t - phaseEnd) / (total - 1 - phaseEnd));
}

describe('learning-rate schedules', () => {
  const clock = { stepsPerEpoch: 430, totalSteps: 20 * 430 };
  const at = (s: ScheduleConfig, t: number) => scheduledLearningRate(s, 2e-3, t, clock);

  it.each([0, 1, 429, 430, 4300, 8598, 8599])('update %i: cosine, step decay and one-cycle match PyTorch', (t) => {
    expect(at({ kind: 'constant' }, t)).toBe(2e-3);
    expect(at({ kind: 'cosine' }, t)).toBeCloseTo(torchCosine(2e-3, 0, t, clock.totalSteps), 15);
    expect(at({ kind: 'cosine', minLr: 1e-5 }, t)).toBeCloseTo(torchCosine(2e-3, 1e-5, t, clock.totalSteps), 15);
    expect(at({ kind: 'step', everyEpochs: 3, gamma: 0.5 }, t)).toBeCloseTo(torchStep(2e-3, 0.5, 3, Math.floor(t / 430)), 15);
    expect(at({ kind: 'onecycle' }, t)).toBeCloseTo(torchOneCycle(2e-3, clock.totalSteps, t), 15);
  });

  it('a linear warm-up, then cosine over the rest; past the end the final value holds', () => {
    const s: ScheduleConfig = { kind: 'cosine', warmupEpochs: 1 };
    expect(at(s, 0)).toBeCloseTo(2e-3 / 430, 15);
    expect(at(s, 214)).toBeCloseTo((2e-3 * 215) / 430, 15);
    expect(at(s, 430)).toBe(2e-3);
    expect(at(s, 430 + 4085)).toBeCloseTo(torchCosine(2e-3, 0, 4085, 19 * 430), 15);
    expect(at(s, 30 * 430)).toBeCloseTo(0, 15);
    expect(at({ kind: 'onecycle' }, 30 * 430)).toBeCloseTo(2e-3 / 25 / 1e4, 15);
  });

  it('the written form parses back; bad ones are refused by name', () => {
    for (const text of ['cosine', 'cosine:warmup=0.5:min=0.00001', 'step:every=3:gamma=0.5', 'onecycle:pct=0.25']) {
      expect(formatSchedule(parseSchedule(text))).toBe(text);
    }
    expect(() => parseSchedule('linear')).toThrow(/unknown schedule 'linear'/);
    expect(() => parseSchedule('cosine:warm=1')).toThrow(/'warm=1' is not one of warmup=NUMBER/);
    expect(() => parseSchedule('step:gamma=2')).toThrow(/gamma out of range: 2/);
    expect(() => parseSchedule('onecycle:warmup=1')).toThrow(/own warm-up/);
  });
});

const gpu = await openTestDevice();
const { device } = gpu;
const ops = testOps(device);
const whole = (buffer: GPUBuffer) => ({ buffer });

function batchUniform(fields: Parameters<typeof packBatchUniform>[1]): GPUBuffer {
  const buffer = uniformBuffer(device, BATCH_UNIFORM_BYTES, 'batch');
  device.queue.writeBuffer(buffer, 0, packBatchUniform(new UniformWords(BATCH_UNIFORM_BYTES), fields));
  return buffer;
}

describe('kernels of the recipes against the float64 reference', () => {
  it.each([[37, 10, 0.1], [5, 23, 0.3]])('softmaxCrossEntropy with label smoothing, %i rows × %i classes, ε %f', async (rows, classes, eps) => {
    await withErrorScope(device, async () => {
      const logits = randomArray(rows * classes, 17).map((x) => 4 * x);
      const labels = Uint32Array.from({ length: rows }, (_, r) => (r * 7) % classes);
      const dLogits = gpuArray(device, new Float32Array(rows * classes));
      const stats = gpuArray(device, new Float32Array(rows * 2));
      await runDispatches(device, [ops.softmaxCrossEntropy(whole(dLogits), whole(stats), whole(gpuArray(device, logits)), whole(gpuArray(device, labels)), whole(batchUniform({ rows, labelSmoothing: eps })), rows, classes)]);
      const wantGrad = new Float64Array(rows * classes);
      const wantLoss = new Float64Array(rows);
      ref.softmaxCrossEntropy(wantGrad, wantLoss, logits, labels, rows, classes, eps);
      expectClose(await readFloats(device, dLogits, 0, rows * classes), wantGrad, 1e-7, 1e-5, 'dLogits');
      const got = await readFloats(device, stats, 0, rows * 2);
      expectClose(got.filter((_, i) => i % 2 === 0), wantLoss, 1e-6, 1e-5, 'loss');
    });
  });

  it('dropout: the mask is the reference hash, keeps 1 − p, is the same for the same step and new for the next', async () => {
    await withErrorScope(device, async () => {
      const rows = 67;
      const width = 301;
      const p = 0.3;
      const x = randomArray(rows * width, 3);
      const run = async (step: number, seed: number, layer = 2) => {
        const out = gpuArray(device, new Float32Array(rows * width));
        await runDispatches(device, [dropoutGpu.dropout(ops, whole(out), whole(gpuArray(device, x)), whole(batchUniform({ rows, step, seed })), { capacityRows: rows, width, p, layer })]);
        return readFloats(device, out, 0, rows * width);
      };
      const got = await run(7, 42);
      const want = new Float64Array(rows * width);
      dropoutRef.dropout(want, x, p, (i) => dropoutRef.dropoutKeep(42, 7, 2, i, p));
      expectClose(got, want, 0, 1e-6, 'dropout');
      const kept = got.filter((v, i) => v !== 0 || x[i] === 0).length / got.length;
      expect(Math.abs(kept - (1 - p))).toBeLessThan(0.01); // 20,167 draws: 4.5 standard deviations
      expect(Array.from(await run(7, 42))).toEqual(Array.from(got));
      for (const other of [await run(8, 42), await run(7, 43), await run(7, 42, 3)]) {
        const agree = other.filter((v, i) => (v === 0) === (got[i] === 0)).length / got.length;
        expect(agree).toBeLessThan(0.65); // independent masks agree on p² + (1 − p)² = 58 %
      }
    });
  });

  it('dropoutBackward, alone and with the backward of the activation before it (relu reads y, gelu x)', async () => {
    await withErrorScope(device, async () => {
      const rows = 13;
      const width = 37;
      const p = 0.45;
      const dY = randomArray(rows * width, 8);
      const x = randomArray(rows * width, 9);
      for (const name of [null, 'relu', 'gelu']) {
        const activation = name ? activationNamed(name) : null;
        const y = activation ? Float32Array.from(activation.forward(Float64Array.from(x))) : x;
        const fused = activation ? { op: activation.op, x: whole(gpuArray(device, x)), y: whole(gpuArray(device, y)) } : undefined;
        const dX = gpuArray(device, new Float32Array(rows * width));
        const shape = { capacityRows: rows, width, p, layer: 4 };
        await runDispatches(device, [dropoutGpu.dropoutBackward(ops, whole(dX), whole(gpuArray(device, dY)), fused, whole(batchUniform({ rows, step: 3, seed: 1 })), shape)]);
        let want: Float64Array<ArrayBufferLike> = new Float64Array(rows * width);
        dropoutRef.dropoutBackward(want, dY, p, (i) => dropoutRef.dropoutKeep(1, 3, 4, i, p));
        if (activation) want = activation.backward(want, Float64Array.from(x), Float64Array.from(y));
        expectClose(await readFloats(device, dX, 0, rows * width), want, 1e-6, 1e-6, `dropoutBackward ${name ?? 'alone'}`);
      }
    });
  });

  it('maxNorm scales the columns over the radius and leaves the others', async () => {
    await withErrorScope(device, async () => {
      const [inputs, outputs, c] = [37, 23, 2.5];
      const w = randomArray(inputs * outputs, 5).map((v, i) => (i % outputs < 11 ? v : v / 10));
      const buffer = gpuArray(device, w);
      await runDispatches(device, [ops.maxNorm(whole(buffer), inputs, outputs, c)]);
      const want = Float64Array.from(w);
      ref.maxNorm(want, inputs, outputs, c);
      expect(Array.from(want).some((v, i) => v !== w[i])).toBe(true);
      expectClose(await readFloats(device, buffer, 0, inputs * outputs), want, 1e-7, 1e-6, 'maxNorm');
    });
  });
});

const mnist = loadMnist();
const train = sliceDataset(mnist.train, 0, 256, 'train');
const validation = sliceDataset(mnist.train, 50000, 300, 'validation');

describe('fitting with the recipes', () => {
  it('early stopping ends after `patience` epochs without a better validation accuracy and puts the best weights back', async () => {
    const model = new Model(device, { ...mlpOptions([784, 32, 10]), seed: 4 });
    // Too high a learning rate: validation accuracy wanders, so the best epoch is rarely the last.
    const history = await model.fit(train, { epochs: 8, batchSize: 32, optimizer: { kind: 'sgd', lr: 0.9 }, validation, patience: 2 });
    const bestAt = history.map((e) => e.best ?? false).lastIndexOf(true);
    expect(bestAt).toBeGreaterThanOrEqual(0);
    const stoppedEarly = history.length < 8;
    expect(stoppedEarly).toBe(history.length - 1 - bestAt >= 2);
    if (stoppedEarly) expect(history.length - 1 - bestAt).toBe(2);
    const now = await model.evaluate(validation);
    expect(now.accuracy).toBe(history[bestAt].validation!.accuracy);
    expect(now.loss).toBe(history[bestAt].validation!.loss);
    model.dispose();
  });

  // Dropout, label smoothing, a cosine schedule with warm-up, AdamW and max-norm at once, with batches gathered
  // on the GPU and two steps per submission. The first run dies after saving its epoch-1 checkpoint (as a
  // killed `train --checkpoint` would); the resumed run, asked for the same 3 epochs, ends where the
  // uninterrupted one ends.
  it('a run with every recipe resumes bit for bit from a full checkpoint', async () => {
    const data = sliceDataset(train, 0, 120, 'train');
    const options = { layers: parseLayers('linear:24,relu,dropout:0.3,linear:10'), seed: 9 };
    const fit: FitOptions = {
      epochs: 3, batchSize: 24, optimizer: { kind: 'adamw', lr: 2e-3, weightDecay: 1e-4 }, progressEvery: 3, stepsPerSubmit: 2,
      schedule: { kind: 'cosine', warmupEpochs: 0.5 }, labelSmoothing: 0.1, maxNorm: 1.5,
    };
    const straight = new Model(device, options);
    await straight.fit(data, fit);

    const first = new Model(device, options);
    let checkpoint: Uint8Array | undefined;
    const died = first.fit(data, {
      ...fit,
      onEpoch: async () => {
        checkpoint = await saveCheckpoint(first, { full: true });
        throw new Error('killed');
      },
    });
    await expect(died).rejects.toThrow('killed');
    first.dispose();
    const resumed = new Model(device, { ...options, seed: 77 }); // the checkpoint's seed and RNG state win
    loadCheckpoint(resumed, checkpoint!, 'ckpt.safetensors');
    expect(resumed.epochs).toBe(1);
    expect(resumed.recipe).toMatchObject({ schedule: fit.schedule, labelSmoothing: 0.1, maxNorm: 1.5 });
    await resumed.fit(data, { ...fit, epochs: 2 });
    expect(await resumed.getParams()).toEqual(await straight.getParams());
    // And the dropout did something: without it the weights differ.
    const noDropout = new Model(device, { ...options, layers: parseLayers('linear:24,relu,linear:10') });
    await noDropout.fit(data, fit);
    expect(await noDropout.getParams()).not.toEqual(await straight.getParams());
    for (const m of [straight, resumed, noDropout]) m.dispose();
  });
});
