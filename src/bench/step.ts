// Where a training step's time goes: each kernel of the step timed alone, their sum, the whole step's
// dispatches timed back to back, and the steady-state throughput of real training (fit) at that batch size.
import { sliceDataset, type Dataset } from '../data/dataset.js';
import type { DispatchCost } from '../gpu/dispatch.js';
import { modelInternals, type Model } from '../engine/model.js';
import { ResidentDataset } from '../engine/residentData.js';
import { calibratedRepeats, timeDispatches, type Timing } from '../tuning/timing.js';
import { formatAugmentation, type Augmentation } from '../augment/spec.js';
import { loadAugmentKernels } from '../augment/kernels.js';

export interface KernelTime {
  label: string;
  timing: Timing;
  workgroups: number;
  workgroupSize: number;
  cost: DispatchCost;
}

export interface StepBreakdown {
  batchSize: number;
  kernels: KernelTime[];
  kernelSumMs: number;
  /** The step's dispatches encoded back to back, no upload. */
  dispatchesMs: number;
}

export async function stepBreakdown(model: Model, batchSize: number, augment?: Augmentation): Promise<StepBreakdown> {
  const internals = modelInternals(model);
  if (augment) await loadAugmentKernels();
  const plan = internals.plan('train', batchSize, augment);
  const optimizer = internals.useOptimizer({ kind: 'adam', lr: 1e-3 });
  // fit gathers each batch from a training set kept in GPU memory; here a set of one batch of blank images.
  const F = model.architecture.inputs;
  const data = new ResidentDataset(model.device, { name: 'bench', images: new Uint8Array(batchSize * F), labels: new Uint8Array(batchSize), count: batchSize, features: F }, plan.augmentImage);
  data.writeOrder(Uint32Array.from({ length: batchSize }, (_, i) => i));
  plan.writeBatch({ rows: batchSize });
  const step = [...plan.gatherFrom(data), ...plan.forward, ...plan.loss, ...plan.backward, ...optimizer.updates];
  await model.kernelsReady();
  const kernels: KernelTime[] = [];
  for (const d of step) {
    const timing = await timeDispatches(model.device, [d], await calibratedRepeats(model.device, [d], 200));
    kernels.push({ label: d.label, timing, workgroups: d.workgroups[0] * d.workgroups[1], workgroupSize: d.workgroupSize, cost: d.cost });
  }
  const whole = await timeDispatches(model.device, step, await calibratedRepeats(model.device, step, 500));
  data.destroy();
  return { batchSize, kernels, kernelSumMs: kernels.reduce((a, k) => a + k.timing.medianMs, 0), dispatchesMs: whole.medianMs };
}

export interface Throughput {
  batchSize: number;
  stepsPerSubmit: number;
  steps: number;
  samplesPerSecond: number;
  msPerStep: number;
  /** The distortions each batch had ('none', or their written form). */
  augment: string;
}

/**
 * Steady-state training speed: a warm-up fit of a few steps on the same set (which compiles the kernels and, where
 * fit keeps the set in GPU memory, uploads it, once per fit), then a timed one-epoch fit over `steps` full batches.
 */
export async function trainingThroughput(model: Model, data: Dataset, batchSize: number, steps: number, stepsPerSubmit = 1, augment?: Augmentation): Promise<Throughput> {
  const optimizer = { kind: 'adam' as const, lr: 1e-3 };
  const subset = sliceDataset(data, 0, Math.min(data.count, steps * batchSize));
  let warmUpSteps = 0;
  await model.fit(subset, {
    epochs: 1, batchSize, optimizer, progressEvery: 0, stepsPerSubmit, augment, onStep: () => warmUpSteps++, shouldStop: () => warmUpSteps >= 3,
  });
  await model.kernelsReady();
  const [epoch] = await model.fit(subset, { epochs: 1, batchSize, optimizer, progressEvery: 0, stepsPerSubmit, augment });
  const actualSteps = Math.ceil(subset.count / batchSize);
  return {
    batchSize, stepsPerSubmit, steps: actualSteps, samplesPerSecond: epoch.samplesPerSecond, msPerStep: (epoch.seconds * 1000) / actualSteps,
    augment: formatAugmentation(augment),
  };
}
