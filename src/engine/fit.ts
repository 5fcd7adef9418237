// The training loop of Model.fit, over a small explicit view of the model (TrainingView): per epoch it shuffles,
// encodes each step's batch (gathered on the GPU from a resident training set, or uploaded) with the plan's
// forward, loss and backward and the optimizer's update, several steps to a submission when the data stays on
// the GPU; it reads the running loss back only at progress points, a stop and the epoch's end, then validates,
// keeps the best weights for early stopping and reports.
import { packBatchUniform } from '../../shaders/batchUniform.js';
import { checkDataset, type AnyDataset, type InputKind } from '../data/dataset.js';
import { BadInputError, DivergedError } from '../errors.js';
import { augmentedImageOf, checkAugmentation, type Augmentation, type ImageSize } from '../augment/spec.js';
import { encodeDispatches, pipelineCacheFor, type Dispatch } from '../gpu/dispatch.js';
import { checkedGpuWork } from '../gpu/gpuErrors.js';
import { codeHash } from '../gpu/codeHash.js';
import type { Random } from '../gpu/random.js';
import type { VariantChoices } from '../gpu/variants.js';
import { hasTrainableParameters, type Architecture } from '../layers/architecture.js';
import { BatchUploader, StepUniforms } from './batches.js';
import { BestWeights } from './bestWeights.js';
import type { MlpParameters } from './mlp.js';
import type { GpuOptimizer, OptimizerConfig } from './optimizer.js';
import type { ModelPlan, PlanMode } from './plan.js';
import type { TrainingRecipe } from './recipe.js';
import { ResidentDataset } from './residentData.js';
import { scheduledLearningRate, validateSchedule } from './schedule.js';
import { lossMetrics, takesTargets, totalSumOfSquares, type LossKind } from '../data/loss.js';

/** What FitOptions.onStep is told after each training step. */
export interface StepInfo {
  /** The epoch, 1-based over the model's life: a resumed or second fit goes on counting. */
  epoch: number;
  /** Step within the epoch, 1-based. */
  step: number;
  /** Steps in a full epoch: ⌈training images / batch size⌉ (the last batch may be smaller). */
  stepsPerEpoch: number;
  /** Images trained on so far in this epoch. */
  samples: number;
  /** Mean training loss so far in this epoch; present only at progress points (a GPU readback). */
  loss?: number;
  /**
   * Training accuracy so far in this epoch (the share of its rows classified right; for 'bce' of its labels; NaN
   * for 'mse'); with `loss`.
   */
  accuracy?: number;
}

/** One epoch's result: what fit resolves with (one per epoch) and what FitOptions.onEpoch is told. */
export interface EpochInfo {
  /** The epoch, 1-based over the model's life: a resumed or second fit goes on counting. */
  epoch: number;
  /** The epoch was stopped before its last step (signal or shouldStop); `model.epochs` does not count it. */
  partial?: boolean;
  /** Its validation result is the best of this fit so far. */
  best?: boolean;
  /** Mean training loss over the epoch's images, as the steps computed it (with dropout and label smoothing). */
  trainLoss: number;
  /** Share of the epoch's training images classified right during the steps, 0..1 ('bce': of their labels; 'mse': NaN). */
  trainAccuracy: number;
  /** 'mse': mean absolute error over the epoch's rows and outputs, as the steps computed it. */
  trainMeanAbsoluteError?: number;
  /** 'mse': R² of the steps' outputs against the epoch's targets (see Evaluation.r2). */
  trainR2?: number;
  /** 'bce': share of the epoch's labels right during the steps (probability ≥ 0.5 against target ≥ 0.5). */
  trainLabelAccuracy?: number;
  /** The model on FitOptions.validation after the epoch; absent without a validation set. */
  validation?: Evaluation;
  /** Wall-clock seconds of the epoch's training steps (the validation pass not included). */
  seconds: number;
  /** Training images per second over those seconds. */
  samplesPerSecond: number;
}

/** A model's result on a data set (Model.evaluate, EpochInfo.validation): its loss, and its task's metrics. */
export interface Evaluation {
  /** Mean loss per row (no label smoothing, no dropout): cross-entropy, or for 'mse'/'bce' the mean over rows and outputs. */
  loss: number;
  /** Share of the images classified right, 0..1; for 'bce' the share of labels right (labelAccuracy); NaN for 'mse'. */
  accuracy: number;
  /** 'mse': mean absolute error over rows and outputs. */
  meanAbsoluteError?: number;
  /**
   * 'mse': coefficient of determination, 1 − Σ squared errors / Σ squared deviations of the targets from each
   * output's mean (over all outputs together; the usual R² for one output).
   */
  r2?: number;
  /** 'bce': share of the labels right, a probability ≥ 0.5 counted as yes, a target ≥ 0.5 as yes. */
  labelAccuracy?: number;
  /** Images evaluated: the whole data set. */
  count: number;
}

/** Options of Model.fit: the training recipe, the epoch count, and what to watch or stop it with. */
export interface FitOptions extends TrainingRecipe {
  /** Epochs to train in this fit, a positive integer (early stopping or a stop may end it sooner). */
  epochs: number;
  /**
   * The optimizer. Its state (moments, step count) carries over from the last fit while the kind is the same,
   * and new hyperparameters (a lower learning rate, say) apply to it; `reset: true` starts it afresh.
   */
  optimizer: OptimizerConfig & {
    /** Start the optimizer state afresh even when the kind is the same. */
    reset?: boolean;
  };
  /** Evaluated after every epoch (EpochInfo.validation); needed by patience and restoreBest. */
  validation?: AnyDataset;
  /** Read the running loss back after each epoch's first step and every this many steps (0: only at epoch ends). Default 50. */
  progressEvery?: number;
  /** Called after every step; loss and accuracy are present only at progress points. */
  onStep?: (info: StepInfo) => void;
  /** Called after every epoch (and its validation); fit awaits it before the next one, so it may save a checkpoint. */
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
  /**
   * Stops fit before its next step: fit then resolves with the epochs so far, the last one marked `partial`
   * (steps already encoded into the same submission, see stepsPerSubmit, still run).
   */
  signal?: AbortSignal;
  /** Asked before each step; returning true stops fit there, as an aborted `signal` does. */
  shouldStop?: () => boolean;
  /**
   * Training steps encoded into one submission (default: the variants' choice, 4 on GPUs, 1 on software
   * adapters; always 1 when the training set is not kept in GPU memory). More saves per-submission
   * overhead on fast GPUs;
   * the result is the same bit for bit. Progress points and stops still fall on their exact step.
   */
  stepsPerSubmit?: number;
  /** Where a one-line note goes (a resume on other kernels than the checkpoint's). Default console.warn. */
  onNote?: (line: string) => void;
  /** Early stopping: end fit after this many epochs without a better validation accuracy (needs validation). */
  patience?: number;
  /**
   * At the end of fit, put back the weights of the epoch with the best validation accuracy (ties: lower
   * validation loss). Default: on when patience is set.
   */
  restoreBest?: boolean;
  /**
   * Keep the training set in GPU memory and gather batches there, when it fits one binding (default: the
   * variants' choice, on for GPUs; always on with augment, which keeps it as quads, four times its bytes).
   * Needed for more than one step per submission.
   */
  gpuResidentData?: boolean;
}

/** What a checkpoint records of the kernels that trained it: a digest of every step kernel's code, and the matmuls by name. */
export interface KernelRecord {
  digest: string;
  matmuls: string[];
}

export function kernelRecord(step: Dispatch[]): KernelRecord {
  return { digest: codeHash(step.map((d) => d.codeHash).join(',')), matmuls: step.filter((d) => d.label.startsWith('matmul')).map((d) => d.label) };
}

/** Higher accuracy wins; on a tie (or without accuracy: 'mse'), lower loss. */
const isBetter = (e: Evaluation, than?: Evaluation) =>
  !than || e.accuracy > than.accuracy || ((e.accuracy === than.accuracy || Number.isNaN(e.accuracy)) && e.loss < than.loss);

/** A mean training loss this many times a uniform guess's counts as divergence. */
export const EXPLOSION_FACTOR = 100;

/** Waits once this many submissions are unfinished, so progress reflects the GPU, not the encoder. */
const MAX_SUBMISSIONS_IN_FLIGHT = 2;

/** What the training loop uses of a model (Model.trainingView). */
export interface TrainingView {
  readonly device: GPUDevice;
  readonly architecture: Architecture;
  readonly classes: number;
  readonly input: InputKind;
  readonly loss: LossKind;
  readonly random: Random;
  readonly parameters: MlpParameters;
  readonly choices: VariantChoices;
  readonly seed: number;
  /** Whole epochs done; the loop counts each finished one. */
  epochsDone: number;
  /** This fit's recipe, recorded for checkpoints. */
  lastRecipe: TrainingRecipe;
  /** The kernels of the last training step (a checkpoint records them), and those a resumed state was trained with. */
  kernels: { trained?: KernelRecord; resumedFrom?: KernelRecord };
  plan(mode: PlanMode, capacity: number, augmentation?: Augmentation): ModelPlan;
  useOptimizer(config: OptimizerConfig & { reset?: boolean }): GpuOptimizer;
  maxNormDispatches(c: number): Dispatch[];
  residentData(data: AnyDataset, quads?: ImageSize): ResidentDataset;
  readStats(plan: ModelPlan, rows: number): Promise<{ lossSum: number; correct: number }>;
  evaluate(data: AnyDataset): Promise<Evaluation>;
  whileDeviceLives<T>(body: () => Promise<T>): Promise<T>;
  throwIfLost(): void;
}

export async function runFit(m: TrainingView, train: AnyDataset, options: FitOptions): Promise<EpochInfo[]> {
  // Full kernels compiling behind quick twins (Ops.matmul) wait until the first step is done: they would take a
  // core from it (PipelineCache.holdBackgroundUntil).
  let firstStepDone = () => {};
  pipelineCacheFor(m.device).holdBackgroundUntil(new Promise<void>((done) => (firstStepDone = done)));
  try {
    return await fitSteps(m, train, options, firstStepDone);
  } finally {
    firstStepDone();
  }
}

async function fitSteps(m: TrainingView, train: AnyDataset, options: FitOptions, firstStepDone: () => void): Promise<EpochInfo[]> {
  const { epochs, batchSize } = options;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new BadInputError(`epochs must be a positive integer, got ${epochs}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new BadInputError(`batch size must be a positive integer, got ${batchSize}`);
  const asked = options.stepsPerSubmit;
  if (asked !== undefined && !(Number.isInteger(asked) && asked >= 1)) throw new BadInputError(`stepsPerSubmit must be a positive integer, got ${asked}`);
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new BadInputError(`labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  // Smoothing spreads a class label's target over the classes: 'mse' and 'bce' targets are given as they are.
  if (labelSmoothing !== 0 && m.loss !== 'cross-entropy') throw new BadInputError(`labelSmoothing is for the 'cross-entropy' loss; this model trains with '${m.loss}'`, { value: labelSmoothing });
  if (options.schedule) validateSchedule(options.schedule);
  if (options.maxNorm !== undefined && !(options.maxNorm > 0 && Number.isFinite(options.maxNorm))) throw new BadInputError(`maxNorm must be a positive number, got ${options.maxNorm}`);
  const patience = options.patience;
  if (patience !== undefined && !(Number.isInteger(patience) && patience >= 1)) throw new BadInputError(`patience must be a positive integer, got ${patience}`);
  const restoreBest = options.restoreBest ?? patience !== undefined;
  if ((patience !== undefined || restoreBest) && !options.validation) throw new BadInputError('patience and restoreBest need a validation set');
  if (!hasTrainableParameters(m.architecture)) throw new BadInputError(`every layer with parameters of ${m.architecture.name} is frozen (trainable: false): nothing to train`);
  checkDataset(train, m.architecture.inputs, m.classes, m.input, m.loss);
  if (options.validation) checkDataset(options.validation, m.architecture.inputs, m.classes, m.input, m.loss);
  if (train.count === 0) throw new BadInputError(`${train.name}: no images to train on`);
  const augment = checkAugmentation(options.augment);
  if (augment) {
    if (m.input !== 'u8') throw new BadInputError('augment distorts u8 image pixels; this model takes f32 features', { flag: 'augment' });
    augmentedImageOf(m.architecture.inputShape, augment);
  }

  const capacity = Math.min(batchSize, train.count);
  // Pipelines and bind groups are made here: a bad one fails now, before the first step.
  const { plan, optimizer, constraints } = await checkedGpuWork(m.device, 'building the training plan', () => ({
    plan: m.plan('train', capacity, augment),
    optimizer: m.useOptimizer(options.optimizer),
    constraints: options.maxNorm === undefined ? [] : m.maxNormDispatches(options.maxNorm),
  }));
  // The training set stays in GPU memory when it fits one binding: batches are gathered there, and a step
  // uploads only its uniforms, several steps to a submission. Otherwise the host uploads each batch.
  // Asking for several steps per submission asks for the data on the GPU, which they need. Augmented fits keep
  // it there as quads, which the distortion samples four times faster than rows (src/augment/quads.ts).
  if (options.gpuResidentData === false && (asked ?? 1) > 1) throw new BadInputError('stepsPerSubmit > 1 needs gpuResidentData');
  const keepOnGpu = options.gpuResidentData ?? ((asked ?? 1) > 1 || augment !== undefined || (m.choices.gpuResidentData ?? false));
  const quads = plan.augmentImage;
  const resident = keepOnGpu && ResidentDataset.fits(m.device, train, quads) ? m.residentData(train, quads) : null;
  const uploader = resident ? null : new BatchUploader(plan, m.architecture.inputs);
  const batchInput = resident ? plan.gatherFrom(resident) : plan.batchInput;
  const stepDispatches = [...batchInput, ...plan.forward, ...plan.loss, ...plan.backward, ...optimizer.updates, ...constraints];
  const trained = kernelRecord(stepDispatches);
  const resumedFrom = m.kernels.resumedFrom;
  if (resumedFrom && resumedFrom.digest !== trained.digest) {
    const changed = trained.matmuls.filter((label, i) => label !== resumedFrom.matmuls[i]);
    (options.onNote ?? console.warn)(`resume: the checkpoint was trained with other kernels (${resumedFrom.digest}, now ${trained.digest}${changed.length ? `; ${changed.join('; ')}` : ''}): the run goes on, but not bit for bit with one that never stopped`);
  }
  m.kernels = { trained };
  m.lastRecipe = { batchSize, optimizer: optimizer.config, schedule: options.schedule, labelSmoothing, maxNorm: options.maxNorm, ...(augment ? { augment } : {}) };
  const stepsPerEpoch = Math.ceil(train.count / batchSize);
  // The schedule runs over the whole run: the epochs done before this fit (a resume) and this fit's.
  const clock = { stepsPerEpoch, totalSteps: (m.epochsDone + epochs) * stepsPerEpoch };
  const learningRate = (t: number) =>
    options.schedule ? scheduledLearningRate(options.schedule, optimizer.config.lr, t, clock) : optimizer.config.lr;
  const progressEvery = options.progressEvery ?? 50;
  const stepsPerSubmit = resident ? asked ?? m.choices.stepsPerSubmit ?? 1 : 1;
  const ring = stepsPerSubmit > 1
    ? new StepUniforms(m.device, plan.batch, plan.batchWords.buffer, optimizer.uniform, optimizer.uniformWords.buffer, Math.min(stepsPerSubmit, stepsPerEpoch))
    : null;
  const best = restoreBest ? new BestWeights(m.parameters) : null;
  const order = new Uint32Array(train.count);
  const stopAsked = () => (options.signal?.aborted ?? false) || (options.shouldStop?.() ?? false);
  // A loss far above a uniform guess's (ln classes, where a fresh model starts) is divergence even while it is
  // finite: Adam at lr 1e6 reaches 1e16 and would go on to a useless model.
  // With float targets, the loss of predicting zeros is the scale: the mean squared target ('mse'), ln 2 ('bce').
  const targets = takesTargets(m.loss) ? train.targets!.values.subarray(0, train.count * m.classes) : undefined;
  const explodedAbove = EXPLOSION_FACTOR * (m.loss === 'mse' ? Math.max(1, targets!.reduce((a, t) => a + t * t, 0) / targets!.length) : m.loss === 'bce' ? Math.LN2 : Math.log(m.classes));
  const r2Of = m.loss === 'mse' ? { width: m.classes, totalSquares: totalSumOfSquares(targets!, train.count, m.classes) } : undefined;
  const exploded = (loss: number) => !Number.isFinite(loss) || loss > explodedAbove;
  const history: EpochInfo[] = [];
  let bestValidation: Evaluation | undefined;
  let sinceBest = 0;

  try {
    for (let e = 0; e < epochs; e++) {
      const epoch = m.epochsDone + 1;
      const started = performance.now();
      for (let i = 0; i < order.length; i++) order[i] = i;
      m.random.shuffle(order);
      resident?.writeOrder(order);
      let totals = { lossSum: 0, correct: 0 };
      let samples = 0;
      let step = 0;
      let stopped = false;
      let readStep = 0;
      // The epoch runs inside WebGPU error scopes, and says so when the device is lost on the way.
      await m.whileDeviceLives(() => checkedGpuWork(m.device, `training epoch ${epoch}`, async () => {
        const inFlight: Promise<unknown>[] = [];
        while (step < stepsPerEpoch && !stopped) {
          // One submission: steps until the group is full, a progress point, the epoch's end, or a stop.
          const encoder = m.device.createCommandEncoder();
          const group: { step: number; samples: number }[] = [];
          let progress = false;
          while (!progress && group.length < (ring?.slots ?? 1)) {
            if ((stopped = stopAsked())) break;
            step++;
            const rows = Math.min(batchSize, train.count - samples);
            const lr = learningRate((epoch - 1) * stepsPerEpoch + step - 1);
            const fields = { rows, start: samples, step: optimizer.step + 1, labelSmoothing, seed: m.seed };
            if (ring) {
              packBatchUniform(plan.batchWords, fields);
              optimizer.nextStepWords(lr);
              ring.stage(encoder, group.length);
            } else {
              if (uploader) uploader.upload(train, order, samples, rows, fields);
              else plan.writeBatch(fields);
              optimizer.writeNextStep(lr);
            }
            samples += rows;
            if (step === 1) encoder.clearBuffer(plan.stats);
            const pass = encoder.beginComputePass();
            encodeDispatches(pass, stepDispatches);
            pass.end();
            group.push({ step, samples });
            // Also after an epoch's first step, so a loss shows from the start: the queue holds only that step
            // then (the last epoch ended in a read); the wait for it is one short stall an epoch.
            progress = step === stepsPerEpoch || (progressEvery > 0 && (step === 1 || step % progressEvery === 0));
          }
          readStep = progress ? step : readStep;
          if (group.length === 0) break;
          if (progress) encoder.copyBufferToBuffer(plan.stats, 0, plan.statsStaging, 0, plan.stats.size);
          ring?.flush(group.length);
          m.device.queue.submit([encoder.finish()]);
          if (group[0].step === 1 && e === 0) void m.device.queue.onSubmittedWorkDone().then(firstStepDone, firstStepDone);
          let loss: number | undefined;
          let accuracy: number | undefined;
          if (progress) {
            totals = await m.readStats(plan, capacity);
            ({ loss, accuracy } = lossMetrics(m.loss, totals, samples));
            inFlight.length = 0;
            // Thrown inside the epoch's error scopes: a WebGPU error, if any, is reported instead (it explains more).
            if (exploded(loss)) throw new DivergedError(epoch, step, loss);
          } else {
            inFlight.push(m.device.queue.onSubmittedWorkDone());
            if (inFlight.length >= MAX_SUBMISSIONS_IN_FLIGHT) await inFlight.shift();
          }
          m.throwIfLost();
          for (const [i, g] of group.entries()) {
            options.onStep?.({ epoch, step: g.step, stepsPerEpoch, samples: g.samples, ...(i === group.length - 1 && { loss, accuracy }) });
          }
        }
        // Stopped between progress points: read the totals of the steps taken.
        if (step > 0 && readStep !== step) {
          const encoder = m.device.createCommandEncoder();
          encoder.copyBufferToBuffer(plan.stats, 0, plan.statsStaging, 0, plan.stats.size);
          m.device.queue.submit([encoder.finish()]);
          totals = await m.readStats(plan, capacity);
          if (exploded(totals.lossSum / samples)) throw new DivergedError(epoch, step, totals.lossSum / samples);
        }
      }));
      // Stopped before this epoch's first step: nothing to report.
      if (step === 0) break;
      // The last step is always a progress point, so `totals` holds the whole epoch.
      const metrics = lossMetrics(m.loss, totals, samples, step === stepsPerEpoch ? r2Of : undefined);
      const seconds = (performance.now() - started) / 1000;
      const info: EpochInfo = {
        epoch,
        trainLoss: metrics.loss,
        trainAccuracy: metrics.accuracy,
        ...(metrics.meanAbsoluteError !== undefined && { trainMeanAbsoluteError: metrics.meanAbsoluteError }),
        ...(metrics.r2 !== undefined && { trainR2: metrics.r2 }),
        ...(metrics.labelAccuracy !== undefined && { trainLabelAccuracy: metrics.labelAccuracy }),
        seconds,
        samplesPerSecond: samples / seconds,
      };
      if (step < stepsPerEpoch) info.partial = true;
      if (options.validation) {
        info.validation = await m.evaluate(options.validation);
        info.best = isBetter(info.validation, bestValidation);
        if (info.best) {
          bestValidation = info.validation;
          sinceBest = 0;
          best?.keep();
        } else sinceBest++;
      }
      if (!info.partial) m.epochsDone = epoch;
      history.push(info);
      // The callback's own GPU work (a checkpoint's read-back) fails in its own way on a lost device.
      await m.whileDeviceLives(async () => options.onEpoch?.(info));
      if (stopped) break;
      if (patience !== undefined && sinceBest >= patience) break;
    }
    if (best && bestValidation) best.restore();
  } finally {
    ring?.destroy();
    best?.destroy();
  }
  return history;
}
