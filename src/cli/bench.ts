// npm run bench -- [--quick] [--only throughput,epoch,step,matmul,kernels] [--no-robustness] [--adapter auto|system|swiftshader] [--json FILE]
// Training throughput at batch 64/128/256, one full MNIST epoch, each kernel of a step, and matmul variants.
import { writeFileAtomic } from '../node/files.js';
import { int, table } from './report.js';
import type { MatmulForm, MatmulShape } from '../../shaders/matmul.js';
import { compareMatmulVariants } from '../bench/matmulVariants.js';
import { compareOptimizerVariants, compareSoftmaxVariants, type KernelVariantResult } from '../bench/kernelVariants.js';
import { stepBreakdown, trainingThroughput } from '../bench/step.js';
import { formatAdapter } from '../engine/device.js';
import { Model } from '../engine/model.js';
import { defaultVariantsFor } from '../engine/autotune.js';
import { splitMnist } from '../data/mnist.js';
import { ADAPTER_CHOICES, openNodeDevice } from '../node/gpu.js';
import { loadMnist } from '../node/mnistFiles.js';
import { choiceFlag, intFlag, parseFlags, runMain, UsageError } from './args.js';

const ms = (x: number) => x.toFixed(x < 1 ? 3 : 2);
async function main(): Promise<void> {
  const flags = parseFlags({ quick: { type: 'boolean' }, adapter: { type: 'string' }, json: { type: 'string' }, steps: { type: 'string' }, only: { type: 'string' }, 'no-robustness': { type: 'boolean' } });
  const quick = Boolean(flags.quick);
  const SECTIONS = ['throughput', 'epoch', 'step', 'matmul', 'kernels'] as const;
  const only = (flags.only ?? SECTIONS.join(',')).split(',');
  for (const name of only) if (!SECTIONS.includes(name as (typeof SECTIONS)[number])) throw new UsageError(`--only takes ${SECTIONS.join(', ')}, got '${name}'`);
  const run = (section: (typeof SECTIONS)[number]) => only.includes(section);
  const gpu = await openNodeDevice(choiceFlag('adapter', flags.adapter, ADAPTER_CHOICES, 'auto'), { disableRobustness: flags['no-robustness'] });
  const adapter = formatAdapter(gpu.adapterInfo);
  console.log(`adapter: ${adapter} — ${gpu.driverNote}`);
  const splits = splitMnist(loadMnist());
  const sizes = quick ? [784, 64, 10] : [784, 500, 10];
  const batchSizes = quick ? [64] : [64, 128, 256];
  const steps = intFlag('steps', flags.steps, quick ? 5 : 60);
  const results: Record<string, unknown> = { adapter: gpu.adapterInfo, sizes };
  const variants = defaultVariantsFor(gpu.adapterInfo);

  const throughput = [];
  for (const b of run('throughput') || run('step') ? batchSizes : []) {
    const model = new Model(gpu.device, { sizes, seed: 0, variants });
    throughput.push(await trainingThroughput(model, splits.train, b, steps));
    model.dispose();
  }
  if (throughput.length) {
    console.log(`\n== training throughput, ${sizes.join('-')} MLP, Adam, ${steps} steps after warm-up (Model.fit, one submit per step)`);
    console.log(table(['batch', 'samples/s', 'ms/step'], throughput.map((t) => [String(t.batchSize), int(t.samplesPerSecond), ms(t.msPerStep)])));
  }
  results.throughput = throughput;

  if (!quick && run('epoch')) {
    const model = new Model(gpu.device, { sizes, seed: 0, variants });
    const [epoch] = await model.fit(splits.train, { epochs: 1, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 }, progressEvery: 0 });
    console.log(`\n== one full epoch: ${int(splits.train.count)} images at batch 128 in ${epoch.seconds.toFixed(2)} s (${int(epoch.samplesPerSecond)} samples/s, no validation)`);
    results.fullEpoch = { batchSize: 128, seconds: epoch.seconds, samplesPerSecond: epoch.samplesPerSecond };
    model.dispose();
  }

  const stepBatch = quick ? 64 : 128;
  const model = new Model(gpu.device, { sizes, seed: 0, variants });
  if (run('step')) {
  const breakdown = await stepBreakdown(model, stepBatch);
  const measured = throughput.find((t) => t.batchSize === stepBatch)!;
  console.log(`\n== one training step at batch ${stepBatch}, kernel by kernel (each timed alone, median of 5, ${breakdown.kernels[0]?.timing.clock === 'timestamp' ? 'GPU timestamps' : 'wall clock'})`);
  console.log(table(['kernel', 'ms', 'min', 'max', 'share'], [
    ...breakdown.kernels.map((k) => [k.label, ms(k.timing.medianMs), ms(k.timing.minMs), ms(k.timing.maxMs), `${((100 * k.timing.medianMs) / breakdown.kernelSumMs).toFixed(1)}%`]),
    ['sum of kernels', ms(breakdown.kernelSumMs), '', '', ''],
    ['step dispatches back to back', ms(breakdown.dispatchesMs), '', '', ''],
    ['measured training step (fit)', ms(measured.msPerStep), '', '', `${(measured.msPerStep / breakdown.kernelSumMs).toFixed(2)}× sum`],
  ]));
  results.step = breakdown;
  }

  const shapes: [MatmulForm, MatmulShape, string][] = quick
    ? [['nn', { M: 64, N: 64, K: 784 }, 'x·W1 (small)']]
    : [
        ['nn', { M: 128, N: 500, K: 784, inputU8: true }, 'forward x·W1 [128×784]·[784×500], u8 pixels'],
        ['tn', { M: 784, N: 500, K: 128, inputU8: true }, 'weight grad xᵀ·dh [784×128]·[128×500], u8 pixels'],
        ['nt', { M: 128, N: 500, K: 10 }, 'input grad dy·W2ᵀ [128×10]·[10×500]'],
        ['nn', { M: 1024, N: 1024, K: 1024 }, 'square 1024'],
      ];
  const variantResults = [];
  for (const [form, shape, what] of run('matmul') ? shapes : []) {
    const rows = await compareMatmulVariants(gpu.device, model.ops, form, shape);
    console.log(`\n== matmul ${form} M=${shape.M} N=${shape.N} K=${shape.K}: ${what} (each variant verified against float64 first; ${rows.find((r) => r.timing)?.timing?.clock === 'timestamp' ? 'GPU timestamps' : 'wall clock'})`);
    console.log(table(['variant', 'verified', 'ms', 'GFLOP/s', 'speed-up'], rows.map((r) => [
      r.variant, r.verified ? 'yes' : `NO (${r.maxError.toExponential(1)})`, r.timing ? ms(r.timing.medianMs) : '-',
      r.gflops ? r.gflops.toFixed(2) : '-', r.speedup ? `${r.speedup.toFixed(1)}×` : '-',
    ])));
    variantResults.push({ form, shape, rows });
    if (rows.some((r) => !r.verified)) process.exitCode = 1;
  }
  results.matmul = variantResults;

  if (run('kernels')) {
    const kernelRows = (rows: KernelVariantResult[]) => rows.map((r) => [
      r.variant, r.verified ? 'yes' : `NO (${r.maxError.toExponential(1)})`, r.timing ? ms(r.timing.medianMs) : '-', r.gbPerSecond ? r.gbPerSecond.toFixed(2) : '-',
    ]);
    const softmaxShapes: [number, number][] = quick ? [[64, 10]] : [[128, 10], [128, 1000]];
    const softmax = [];
    for (const [rows, classes] of softmaxShapes) {
      const r = await compareSoftmaxVariants(gpu.device, model.ops, rows, classes, quick);
      console.log(`\n== softmaxCrossEntropy ${rows}×${classes} (each variant verified against float64 first)`);
      console.log(table(['variant', 'verified', 'ms', 'GB/s'], kernelRows(r)));
      softmax.push({ rows, classes, results: r });
    }
    const length = quick ? 50_944 : 397_632; // the flat buffer of 784-64-10 and of 784-500-10
    const adam = await compareOptimizerVariants(gpu.device, model.ops, length, quick);
    console.log(`\n== adamUpdate over ${int(length)} floats (verified against float64 first)`);
    console.log(table(['variant', 'verified', 'ms', 'GB/s'], kernelRows(adam)));
    results.kernels = { softmax, adam: { length, results: adam } };
    if ([...softmax.flatMap((x) => x.results), ...adam].some((r) => !r.verified)) process.exitCode = 1;
  }
  model.dispose();

  if (flags.json) {
    writeFileAtomic(flags.json, JSON.stringify(results, null, 2) + '\n');
    console.log(`\nresults: ${flags.json}`);
  }
  gpu.destroy();
  if (process.exitCode) throw new Error('some variants did not verify against the reference');
}

runMain('bench', main);
