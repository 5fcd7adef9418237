// npm run bench -- [--quick] [--only throughput,epoch,step,matmul,kernels] [--hidden 500[,300...] | --layers LIST] [--batch-size 64,128,256]
//   [--steps-per-submit 1,4,16] [--augment RANGES [--repeats N]] [--budget S | --exhaustive] [--wide] [--match TEXT,...] [--autotune] [--no-robustness] [--precision f32|f16] [--adapter auto|system|lavapipe|swiftshader] [--json FILE]
// Training throughput per batch size, one full MNIST epoch, each kernel of a step with its structural figures
// (workgroups, FLOPs, bytes), and the matmul variants on every product of the step. On a real GPU (or with
// --wide) the matmul section adds the products of a 784-4096-4096-10 step at batch 1024 and 4096³.
import { checkOutputs, writeFileAtomic } from '../node/files.js';
import { int, table } from './report.js';
import type { MatmulForm, MatmulShape } from '../../shaders/matmul.js';
import { compareMatmulVariants } from '../tuning/matmulVariants.js';
import { autotuneVariants, rankedCandidates, trainingMatmuls } from '../tuning/autotune.js';
import { fileTuneStore } from '../node/tuneStore.js';
import { matmulShapeKey } from '../gpu/variants.js';
import { compareBiasGradVariants, compareOptimizerVariants, compareSoftmaxVariants, type KernelVariantResult } from '../bench/kernelVariants.js';
import { stepBreakdown, trainingThroughput, type Throughput } from '../bench/step.js';
import { measureStartup } from '../bench/startup.js';
import { formatAdapter } from '../gpu/device.js';
import { Model, modelInternals } from '../engine/model.js';
import { architectureOf, linearWidths, mlpArchitecture } from '../engine/mlp.js';
import type { Architecture } from '../layers/architecture.js';
import { parseLayers } from '../layers/index.js';
import { defaultVariantsFor } from '../gpu/variants.js';
import { splitMnist } from '../data/mnist.js';
import { PRECISION_FLAG, precisionFlag, precisionNote, requirePrecision, variantsForPrecision } from './precision.js';
import { ADAPTER_CHOICES, openNodeDevice } from '../node/gpu.js';
import { loadMnist } from '../node/mnistFiles.js';
import { choiceFlag, floatFlag, intFlag, intListFlag, parseFlags, runIfEntry, UsageError } from './args.js';
import { formatAugmentation, parseAugmentation, type Augmentation } from '../augment/spec.js';
import { counted } from './progress.js';

const LIMIT_NAMES = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage', 'minStorageBufferOffsetAlignment',
] as const;

export const USAGE = `usage: npm run bench -- [--quick] [--only throughput,epoch,step,matmul,kernels | --only startup] [--hidden 500[,300...] | --layers LIST]
  [--batch-size 64,128,256] [--steps 60] [--steps-per-submit 1,4,16] [--augment RANGES [--repeats N]]
  [--budget S | --exhaustive] [--wide] [--match TEXT,...] [--autotune] [--no-robustness] [--precision f32|f16] [--adapter auto|system|lavapipe|swiftshader] [--json FILE]
Times training (throughput, a full epoch, each kernel of a step) and every matmul variant on the step's products.`;

const ms = (x: number) => x.toFixed(x < 1 ? 3 : 2);
export async function main(): Promise<void> {
  const flags = parseFlags({
    quick: { type: 'boolean' }, adapter: { type: 'string' }, json: { type: 'string' }, steps: { type: 'string' }, only: { type: 'string' },
    'no-robustness': { type: 'boolean' }, hidden: { type: 'string' }, 'batch-size': { type: 'string' }, wide: { type: 'boolean' },
    'steps-per-submit': { type: 'string' }, autotune: { type: 'boolean' }, match: { type: 'string' }, layers: { type: 'string' },
    augment: { type: 'string' }, repeats: { type: 'string' }, exhaustive: { type: 'boolean' }, budget: { type: 'string' },
    ...PRECISION_FLAG,
  });
  const precision = precisionFlag(flags.precision);
  const quick = Boolean(flags.quick);
  // startup runs only when asked, alone, on a device that has compiled nothing yet.
  const SECTIONS = ['throughput', 'epoch', 'step', 'matmul', 'kernels', 'startup'] as const;
  const only = (flags.only ?? SECTIONS.filter((s) => s !== 'startup').join(',')).split(',');
  for (const name of only) if (!SECTIONS.includes(name as (typeof SECTIONS)[number])) throw new UsageError(`--only takes ${SECTIONS.join(', ')}, got '${name}'`);
  if (only.includes('startup') && only.length > 1) throw new UsageError('--only startup runs alone (the other sections would compile its pipelines first)');
  const run = (section: (typeof SECTIONS)[number]) => only.includes(section);
  // Before the timings, not after them.
  checkOutputs({ json: flags.json });
  const processToOpen = performance.now();
  const gpu = await openNodeDevice(choiceFlag('adapter', flags.adapter, ADAPTER_CHOICES, 'auto'), { disableRobustness: flags['no-robustness'], halfPrecision: precision === 'f16' });
  const deviceMs = performance.now() - processToOpen;
  const adapter = formatAdapter(gpu.adapterInfo);
  requirePrecision(precision, gpu);
  console.log(`adapter: ${adapter} — ${gpu.driverNote}${precisionNote(precision)}`);
  const dataStarted = performance.now();
  const splits = splitMnist(loadMnist());
  const dataMs = performance.now() - dataStarted;
  const sizes = [784, ...intListFlag('hidden', flags.hidden, quick ? [64] : [500]), 10];
  // --layers: any model (a CNN), in place of the MLP of --hidden.
  let arch: Architecture;
  try {
    arch = flags.layers !== undefined ? architectureOf({ layers: parseLayers(flags.layers) }) : mlpArchitecture(sizes);
  } catch (e) {
    throw new UsageError(`--layers: ${(e as Error).message}`);
  }
  const modelConfig = { layers: arch.layers.map((l) => l.spec), inputs: arch.inputShape };
  const batchSizes = intListFlag('batch-size', flags['batch-size'], quick ? [64] : [64, 128, 256]);
  const steps = intFlag('steps', flags.steps, quick ? 5 : 60);
  // What the figures were measured on, kept with them: the adapter, the device's limits and both feature lists.
  const limitsOf = (l: GPUSupportedLimits) => Object.fromEntries(LIMIT_NAMES.map((n) => [n, l[n]]));
  const results: Record<string, unknown> = {
    adapter: gpu.adapterInfo, driver: gpu.driverNote, limits: limitsOf(gpu.device.limits),
    features: { device: [...gpu.device.features].sort(), adapter: [...gpu.adapter.features].sort() },
    sizes: linearWidths(arch), architecture: arch.name,
  };
  if (run('startup')) {
    const s = await measureStartup(gpu.device, { ...modelConfig, seed: 0 }, splits.train, splits.test, 128, 1000);
    const stepDone = processToOpen + deviceMs + dataMs + s.model.ms + s.firstStep.ms;
    const row = (what: string, p: { ms: number; pipelines?: number; compileMs?: number }) =>
      [what, ms(p.ms), p.pipelines === undefined ? '' : String(p.pipelines), p.compileMs === undefined ? '' : ms(p.compileMs)];
    console.log(`\n== start-up of ${arch.name} (ms; a fresh device, nothing compiled before)`);
    console.log(table(['phase', 'ms', 'pipelines', 'compiling'], [
      row('process start → opening the device', { ms: processToOpen }),
      row('opening the device', { ms: deviceMs }),
      row('MNIST from disk, split', { ms: dataMs }),
      row('new Model', s.model),
      row('first training step (batch 128), fit', s.firstStep),
      row(`first predict after fit (${counted(s.firstPredict.images, 'image', int)})`, s.firstPredict),
      [`then waiting for the ${s.fullKernels.pipelines} full kernels compiling behind quick twins`, ms(s.fullKernels.ms), String(s.fullKernels.pipelines), ''],
      ['process start → first step done', ms(stepDone), '', ''],
      ['opening the device → first step done', ms(stepDone - processToOpen), '', ''],
    ]));
    results.startup = { processToOpenMs: processToOpen, deviceMs, dataMs, ...s };
  }
  // The batch of the step breakdown, the full epoch and the steps-per-submit comparison.
  const stepBatch = batchSizes.includes(128) ? 128 : batchSizes[0];
  // --autotune: the tuned choices for this adapter (from the cache, or tuned now), as train --autotune uses them.
  const variants = variantsForPrecision(precision, gpu, flags.autotune
    ? await autotuneVariants(gpu.device, { architecture: arch, batchSizes: [stepBatch], adapter: gpu.adapterInfo, store: fileTuneStore(), log: (l) => console.log(l) })
    : defaultVariantsFor(gpu.adapterInfo));

  // Throughput per batch size at one step per submission, and at stepBatch with several.
  // --augment: each run also with the distortions, alternating with the plain one (--repeats pairs, which of
  // the two goes first alternating too), so the two are measured side by side under the same machine load.
  let augment: Augmentation | undefined;
  try {
    augment = flags.augment === undefined ? undefined : parseAugmentation(flags.augment);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const repeats = intFlag('repeats', flags.repeats, 1, 1);
  const submitCounts = intListFlag('steps-per-submit', flags['steps-per-submit'], quick ? [1] : [1, 4, 16]);
  const throughput: Throughput[] = [];
  const runs = batchSizes.map((b) => [b, 1]).concat(submitCounts.filter((s) => s > 1).map((s) => [stepBatch, s]));
  for (const [b, perSubmit] of run('throughput') || run('step') ? runs : []) {
    for (let r = 0; r < repeats; r++) {
      for (const distort of augment ? (r % 2 ? [augment, undefined] : [undefined, augment]) : [undefined]) {
        const model = new Model(gpu.device, { ...modelConfig, seed: 0, variants });
        throughput.push(await trainingThroughput(model, splits.train, b, steps, perSubmit, distort));
        model.dispose();
      }
    }
  }
  if (throughput.length) {
    console.log(`\n== training throughput, ${arch.name}, Adam, ${counted(steps, 'step')} after warm-up (Model.fit)`);
    console.log(table(['batch', 'steps per submit', 'augment', 'samples/s', 'ms/step'], throughput.map((t) => [String(t.batchSize), String(t.stepsPerSubmit), t.augment, int(t.samplesPerSecond), ms(t.msPerStep)])));
    if (augment) {
      const cost = runs.map(([b, perSubmit]) => {
        const of = (a: string) => throughput.filter((t) => t.batchSize === b && t.stepsPerSubmit === perSubmit && t.augment === a).map((t) => t.msPerStep);
        const [plain, distorted] = [of('none'), of(formatAugmentation(augment))];
        const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
        const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
        // The median of the pairs' ratios: one pair caught by a burst of load moves it less than it moves the means.
        const ratios = plain.map((p, i) => distorted[i] / p - 1).sort((x, y) => x - y);
        const median = (ratios[(ratios.length - 1) >> 1] + ratios[ratios.length >> 1]) / 2;
        return [String(b), String(perSubmit), ms(mean(plain)), ms(mean(distorted)), percent(mean(distorted) / mean(plain) - 1), percent(median)];
      });
      console.log(`\n== what augment ${formatAugmentation(augment)} costs a step (${repeats} alternating pair${repeats > 1 ? 's' : ''})`);
      console.log(table(['batch', 'steps per submit', 'ms/step plain', 'ms/step augmented', 'cost of the means', 'median pair cost'], cost));
    }
  }
  results.throughput = throughput;

  // A full epoch (after a first one that pays for compilation), at each steps-per-submit count on a GPU.
  const fullEpochs = [];
  for (const stepsPerSubmit of !quick && run('epoch') ? (gpu.adapterInfo.isFallbackAdapter ? [1] : submitCounts) : []) {
    const model = new Model(gpu.device, { ...modelConfig, seed: 0, variants });
    const fitEpoch = async () => (await model.fit(splits.train, { epochs: 1, batchSize: stepBatch, optimizer: { kind: 'adam', lr: 1e-3 }, progressEvery: 0, stepsPerSubmit }))[0];
    const first = await fitEpoch();
    await model.kernelsReady();
    const epoch = await fitEpoch();
    console.log(`\n== one full epoch of ${arch.name}: ${counted(splits.train.count, 'image', int)} at batch ${stepBatch} in ${epoch.seconds.toFixed(3)} s (${int(epoch.samplesPerSecond)} samples/s, ${counted(stepsPerSubmit, 'step')} per submit, no validation; the first epoch took ${first.seconds.toFixed(3)} s)`);
    fullEpochs.push({ batchSize: stepBatch, stepsPerSubmit, seconds: epoch.seconds, firstSeconds: first.seconds, samplesPerSecond: epoch.samplesPerSecond });
    model.dispose();
  }
  results.fullEpochs = fullEpochs;

  const model = new Model(gpu.device, { ...modelConfig, seed: 0, variants });
  if (run('step')) {
  const breakdown = await stepBreakdown(model, stepBatch, augment);
  const measured = throughput.find((t) => t.batchSize === stepBatch && t.stepsPerSubmit === 1 && t.augment === formatAugmentation(augment));
  console.log(`\n== one training step at batch ${stepBatch}, kernel by kernel (each timed alone, median of 5, ${breakdown.kernels[0]?.timing.clock === 'timestamp' ? 'GPU timestamps' : 'wall clock'})`);
  console.log('   workgroups × size = invocations dispatched; GFLOP and MB (each operand moved once) per run, and the rates they imply');
  const blank = ['', '', '', '', '', '', ''];
  console.log(table(['kernel', 'ms', 'min', 'max', 'share', 'workgroups', 'GFLOP', 'MB', 'GFLOP/s', 'GB/s'], [
    ...breakdown.kernels.map((k) => [
      k.label, ms(k.timing.medianMs), ms(k.timing.minMs), ms(k.timing.maxMs), `${((100 * k.timing.medianMs) / breakdown.kernelSumMs).toFixed(1)}%`,
      `${int(k.workgroups)} × ${k.workgroupSize}`, (k.cost.flops / 1e9).toFixed(4), (k.cost.bytes / 1e6).toFixed(2),
      (k.cost.flops / (k.timing.medianMs * 1e6)).toFixed(1), (k.cost.bytes / (k.timing.medianMs * 1e6)).toFixed(1),
    ]),
    ['sum of kernels', ms(breakdown.kernelSumMs), '', '', '', ...blank.slice(2)],
    ['step dispatches back to back', ms(breakdown.dispatchesMs), '', '', '', ...blank.slice(2)],
    ...(measured ? [['measured training step (fit)', ms(measured.msPerStep), '', '', `${(measured.msPerStep / breakdown.kernelSumMs).toFixed(2)}× sum`, ...blank.slice(2)]] : []),
  ]));
  results.step = breakdown;
  }

  // Every product of the step (forward nn, weight gradient tn, input gradient nt), then big squares.
  const wide = flags.wide || !gpu.adapterInfo.isFallbackAdapter;
  const stepProducts = (model: Architecture, batch: number): [MatmulForm, MatmulShape, string][] =>
    trainingMatmuls(model, batch).map(([form, shape]) => [form, shape, `${model.name} step at batch ${batch}`]);
  const shapes: [MatmulForm, MatmulShape, string][] = quick
    ? [['nn', { M: 64, N: 64, K: 784 }, 'x·W1 (small)']]
    : [
        ...stepProducts(arch, stepBatch),
        ['nn', { M: 1024, N: 1024, K: 1024 }, 'square 1024'],
        ...(wide ? [...stepProducts(mlpArchitecture([784, 4096, 4096, 10]), 1024), ['nn', { M: 4096, N: 4096, K: 4096 }, 'square 4096'] as [MatmulForm, MatmulShape, string]] : []),
      ];
  const variantResults = [];
  // --match: only the products whose key (such as 'nn 4096×4096×4096') contains one of these comma-separated texts.
  const wanted = flags.match?.split(',');
  const matching = shapes.filter(([form, shape]) => !wanted || wanted.some((t) => matmulShapeKey(form, shape).includes(t)));
  // Each product gets autotune's treatment: the likeliest variants first, a time budget per product (--budget
  // seconds; 15 on software adapters, 5 on GPUs), and a variant 1.5× slower than the best so far timed once
  // (marked ~). --exhaustive times every variant to full precision (slow on software adapters: tens of minutes).
  const exhaustive = Boolean(flags.exhaustive);
  if (exhaustive && flags.budget !== undefined) throw new UsageError('--exhaustive times every variant; drop --budget');
  const budgetMs = 1000 * floatFlag('budget', flags.budget, gpu.adapterInfo.isFallbackAdapter ? 15 : 5, (x) => x > 0);
  let skipped = 0;
  for (const [form, shape, what] of run('matmul') ? matching : []) {
    // GPU timestamps resolve short runs well, so on a GPU each trial lasts ~20 ms rather than ~300 ms.
    const ops = modelInternals(model).ops;
    const rows = exhaustive
      ? await compareMatmulVariants(gpu.device, ops, form, shape, undefined, { pruneFactor: 4, quick: !gpu.adapterInfo.isFallbackAdapter })
      : await compareMatmulVariants(gpu.device, ops, form, shape, rankedCandidates(form, shape, variants, gpu.device.limits, gpu.adapterInfo.isFallbackAdapter), { quick: true, budgetMs, pruneFactor: 1.5 });
    skipped += rows.filter((r) => r.skipped === 'time budget').length;
    const best = rows.filter((r) => r.timing && !r.pruned).sort((a, b) => a.timing!.medianMs - b.timing!.medianMs)[0];
    console.log(`\n== matmul ${matmulShapeKey(form, shape)}: ${what} (each variant verified against float64 first${rows[0]?.checked < shape.M * shape.N ? `, on ${rows[0].checked} sampled outputs` : ''}; ${rows.find((r) => r.timing)?.timing?.clock === 'timestamp' ? 'GPU timestamps' : 'wall clock'}; best: ${best?.variant})`);
    console.log(table(['variant', 'verified', 'ms', 'GFLOP/s', 'speed-up'], rows.map((r) => [
      r.variant, r.skipped ? `not run: ${r.skipped}` : r.verified ? 'yes' : `NO (${r.maxError.toExponential(1)})`,
      r.timing ? `${r.pruned ? '~' : ''}${ms(r.timing.medianMs)}` : '-', r.gflops ? r.gflops.toFixed(r.gflops < 100 ? 2 : 0) : '-', r.speedup ? `${r.speedup.toFixed(1)}×` : '-',
    ])));
    variantResults.push({ form, shape, rows });
    if (rows.some((r) => !r.skipped && !r.verified)) process.exitCode = 1;
  }
  results.matmul = variantResults;
  if (skipped) console.log(`\n${skipped} matmul variants not run: over the ${budgetMs / 1000} s budget per product (--budget S, or --exhaustive for all)`);

  if (run('kernels')) {
    const printKernelTable = (title: string, rows: KernelVariantResult[]) => {
      console.log(`\n== ${title} (each variant verified against float64 first)`);
      console.log(table(['variant', 'verified', 'ms', 'GB/s'], rows.map((r) => [
        r.variant, r.verified ? 'yes' : `NO (${r.maxError.toExponential(1)})`, r.timing ? ms(r.timing.medianMs) : '-', r.gbPerSecond ? r.gbPerSecond.toFixed(2) : '-',
      ])));
    };
    const softmaxShapes: [number, number][] = quick ? [[64, 10]] : [[128, 10], [128, 1000]];
    const softmax = [];
    for (const [rows, classes] of softmaxShapes) {
      const r = await compareSoftmaxVariants(gpu.device, modelInternals(model).ops, rows, classes, quick);
      printKernelTable(`softmaxCrossEntropy ${rows}×${classes}`, r);
      softmax.push({ rows, classes, results: r });
    }
    const biasShapes: [number, number][] = quick ? [[64, 64]] : [[128, 500], [128, 10], ...(wide ? [[1024, 4096] as [number, number]] : [])];
    const biasGrad = [];
    for (const [M, N] of biasShapes) {
      const r = await compareBiasGradVariants(gpu.device, modelInternals(model).ops, M, N, quick);
      printKernelTable(`biasGrad ${M}×${N}`, r);
      biasGrad.push({ M, N, results: r });
    }
    const length = quick ? 50_944 : 397_632; // the flat buffer of 784-64-10 and of 784-500-10
    const adam = await compareOptimizerVariants(gpu.device, modelInternals(model).ops, length, quick);
    printKernelTable(`adamUpdate over ${int(length)} floats`, adam);
    results.kernels = { biasGrad, softmax, adam: { length, results: adam } };
    if ([...biasGrad.flatMap((x) => x.results), ...softmax.flatMap((x) => x.results), ...adam].some((r) => !r.verified)) process.exitCode = 1;
  }
  model.dispose();

  if (flags.json) {
    writeFileAtomic(flags.json, JSON.stringify(results, null, 2) + '\n', 'json');
    console.log(`\nresults: ${flags.json}`);
  }
  gpu.destroy();
  if (process.exitCode) throw new Error('some variants did not verify against the reference');
}

runIfEntry(import.meta.url, 'bench', main, USAGE);
