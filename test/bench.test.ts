// The benchmark's smoke test: every matmul variant it compares verifies against the float64 reference
// (on small odd shapes; test/matmul.test.ts covers each family's float path in detail), and the step breakdown covers every kernel of a step. No timing is asserted.
import { describe, expect, it } from 'vitest';
import { compareMatmulVariants, matmulCandidates } from '../src/tuning/matmulVariants.js';
import { stepBreakdown } from '../src/bench/step.js';
import { compareBiasGradVariants, compareOptimizerVariants, compareSoftmaxVariants } from '../src/bench/kernelVariants.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { openTestDevice } from './helpers/gpu.js';
import { syntheticData, mlpOptions } from './helpers/model.js';
import { measureStartup } from '../src/bench/startup.js';
import type { MatmulForm } from '../shaders/matmul.js';

const gpu = await openTestDevice();

describe('bench smoke test', () => {
  it.each([
    ['nt', { M: 37, N: 29, K: 20 }],
    ['nn', { M: 37, N: 24, K: 20, inputU8: true }],
    ['tn', { M: 32, N: 16, K: 13, inputU8: true }],
  ] as [MatmulForm, { M: number; N: number; K: number; inputU8?: boolean }][])('every %s variant verifies on %o', async (form, shape) => {
    const model = new Model(gpu.device, { ...mlpOptions([4, 4, 2]) });
    const rows = await compareMatmulVariants(gpu.device, modelInternals(model).ops, form, shape, undefined, { quick: true, pruneFactor: 1 });
    expect(rows.length).toBeGreaterThanOrEqual(form === 'nt' ? 15 : matmulCandidates(form).length - 4);
    for (const family of ['register', 'tiled', 'reduceK']) expect(rows.some((r) => r.family === family), family).toBe(true);
    for (const r of rows) expect(r.verified, `${r.variant}: ${r.skipped ?? `max error ${r.maxError}`}`).toBe(true);
    for (const r of rows) expect(r.checked).toBe(shape.M * shape.N);
    expect(rows[0].variant).toMatch(/scalar-1x1/);
    model.dispose();
  });

  it('every bias-gradient, softmax-cross-entropy and Adam variant verifies', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([4, 4, 2]) });
    const softmax = await compareSoftmaxVariants(gpu.device, modelInternals(model).ops, 37, 13, true);
    const adam = await compareOptimizerVariants(gpu.device, modelInternals(model).ops, 1028, true);
    const biasGrad = await compareBiasGradVariants(gpu.device, modelInternals(model).ops, 37, 132, true);
    expect(biasGrad.map((r) => r.variant)).toContain('biasGrad-reduceRows-vec4-wg256');
    for (const r of biasGrad) expect(r.verified, `${r.variant}: max error ${r.maxError}`).toBe(true);
    expect(softmax.map((r) => r.variant)).toEqual(['per-invocation-wg64', 'per-workgroup-wg32', 'per-workgroup-wg64']);
    for (const r of [...softmax, ...adam]) expect(r.verified, `${r.variant}: max error ${r.maxError}`).toBe(true);
    model.dispose();
  });

  it('times each kernel of a training step', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 16, 10]) });
    const breakdown = await stepBreakdown(model, 32);
    expect(breakdown.kernels.map((k) => k.label.split(' ')[0])).toEqual([
      'gatherBatch', 'matmulNN', 'matmulNN', 'softmaxCrossEntropy', 'matmulTN', 'biasGrad', 'matmulNT', 'matmulTN', 'biasGrad', 'adamUpdate',
    ]);
    for (const k of breakdown.kernels) expect(k.timing.medianMs).toBeGreaterThan(0);
    model.dispose();
  });
});

describe('start-up benchmark', () => {
  it('on a fresh device, the first step compiles its pipelines and predict after it compiles only its own', async () => {
    const fresh = await openTestDevice();
    const data = syntheticData(200, 784, 10, 5);
    const s = await measureStartup(fresh.device, { ...mlpOptions([784, 16, 10]), seed: 1 }, data, data, 64, 150);
    expect(s.model.pipelines).toBe(0);
    // 784-16-10 training: two forward products, loss, three backward products, two bias gradients, Adam.
    expect(s.firstStep.pipelines).toBeGreaterThanOrEqual(8);
    expect(s.firstStep.compileMs).toBeGreaterThan(0);
    expect(s.firstStep.compileMs).toBeLessThanOrEqual(s.firstStep.ms);
    expect(s.firstPredict.images).toBe(150);
    expect(s.firstPredict.pipelines).toBeLessThanOrEqual(4);
  });
});
