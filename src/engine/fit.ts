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

/**
 * What the training loop uses of a model, and nothing else (Model.trainingView builds it per fit): what it reads,
 * the three fields it writes for checkpoints (epochsDone, lastRecipe, kernels), and the model's services.
 */
export interface TrainingView {
  readonly device: GPUDevice;
  /** The layers as placed: input shape, classes (the last layer's width), which layers train. */
  readonly architecture: Architecture;
  readonly input: InputKind;
  readonly loss: LossKind;
  /** The model's RNG: shuffles each epoch's rows (a full checkpoint restores its state). */
  readonly random: Random;
  /** The GPU parameters: restoreBest copies them. */
  readonly parameters: MlpParameters;
  /** The kernels' variants: their stepsPerSubmit and gpuResidentData are the defaults of those options. */
  readonly choices: VariantChoices;
  /** Keys dropout's masks, written into each step's uniforms. */
  readonly seed: number;
  /** Whole epochs done; the loop counts each finished one. */
  epochsDone: number;
  /** This fit's recipe, recorded for checkpoints. */
  lastRecipe: TrainingRecipe;
  /** The kernels of the last training step (a checkpoint records them), and those a resumed state was trained with. */
  kernels: { trained?: KernelRecord; resumedFrom?: KernelRecord };
  /** The training plan for a batch capacity (and augmentation), built on first use and kept. */
  plan(mode: PlanMode, capacity: number, augmentation?: Augmentation): ModelPlan;
  /** The optimizer for FitOptions.optimizer: the current one (its state kept) while the kind is the same. */
  useOptimizer(config: OptimizerConfig & { reset?: boolean }): GpuOptimizer;
  /** FitOptions.maxNorm's constraint, run after each update. */
  maxNormDispatches(c: number): Dispatch[];
  /** The training set in GPU memory (as quads, for augmentation), kept while fits are given the same one. */
  residentData(data: AnyDataset, quads?: ImageSize): ResidentDataset;
  /** Sums the plan's per-row [loss, correct] over `rows` after a copy to its staging buffer: the readback. */
  readStats(plan: ModelPlan, rows: number): Promise<{ lossSum: number; correct: number }>;
  /** Model.evaluate, for the validation set after each epoch. */
  evaluate(data: AnyDataset): Promise<Evaluation>;
  /** Runs `body`, turning a failure from a lost device into a DeviceLostError. */
  whileDeviceLives<T>(body: () => Promise<T>): Promise<T>;
  /** Throws DeviceLostError once the device is lost. */
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

/** The epochs of one fit: each shuffles, runs its steps, is measured, validated and reported; then the best weights come back. */
async function fitSteps(m: TrainingView, train: AnyDataset, options: FitOptions, firstStepDone: () => void): Promise<EpochInfo[]> {
  const fit = checkFitOptions(m, train, options);
  const steps = await buildSteps(m, train, options, fit);
  const bestEpoch = new BestEpoch(fit.restoreBest ? new BestWeights(m.parameters) : null, fit.patience);
  const history: EpochInfo[] = [];
  try {
    for (let e = 0; e < fit.epochs; e++) {
      const epoch = m.epochsDone + 1;
      const started = performance.now();
      const run = await runEpoch(m, train, options, steps, epoch, e === 0 ? firstStepDone : undefined);
      // Stopped before this epoch's first step: nothing to report.
      if (run.step === 0) break;
      const info = epochInfo(m, steps, run, epoch, (performance.now() - started) / 1000);
      if (options.validation) {
        info.validation = await m.evaluate(options.validation);
        bestEpoch.judge(info, info.validation);
      }
      if (!info.partial) m.epochsDone = epoch;
      history.push(info);
      // The callback's own GPU work (a checkpoint's read-back) fails in its own way on a lost device.
      await m.whileDeviceLives(async () => options.onEpoch?.(info));
      if (run.stopped || bestEpoch.patienceRanOut) break;
    }
    bestEpoch.restore();
  } finally {
    steps.ring?.destroy();
    bestEpoch.destroy();
  }
  return history;
}

/** FitOptions checked, with their defaults filled in: what the steps and the epoch loop read of them. */
interface CheckedFit {
  epochs: number;
  batchSize: number;
  /** FitOptions.stepsPerSubmit as given; undefined leaves it to the variants. */
  stepsPerSubmit?: number;
  labelSmoothing: number;
  patience?: number;
  restoreBest: boolean;
  augment?: Augmentation;
}

/** Every option and both data sets are checked here, before any GPU work, so a refused fit leaves nothing behind. */
function checkFitOptions(m: TrainingView, train: AnyDataset, options: FitOptions): CheckedFit {
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
  checkDataset(train, m.architecture.inputs, m.architecture.classes, m.input, m.loss);
  if (options.validation) checkDataset(options.validation, m.architecture.inputs, m.architecture.classes, m.input, m.loss);
  if (train.count === 0) throw new BadInputError(`${train.name}: no images to train on`);
  const augment = checkAugmentation(options.augment);
  if (augment) {
    if (m.input !== 'u8') throw new BadInputError('augment distorts u8 image pixels; this model takes f32 features', { flag: 'augment' });
    augmentedImageOf(m.architecture.inputShape, augment);
  }
  return { epochs, batchSize, stepsPerSubmit: asked, labelSmoothing, patience, restoreBest, ...(augment && { augment }) };
}

/** What every step of one fit runs on, built once before the first: a step only writes uniforms and encodes. */
interface TrainingSteps {
  readonly fit: CheckedFit;
  readonly plan: ModelPlan;
  readonly optimizer: GpuOptimizer;
  /** One step, in order: batch in (gathered or uploaded), forward, loss, backward, optimizer update, max-norm. */
  readonly dispatches: Dispatch[];
  /** The training set in GPU memory, or null when each batch is uploaded (by `uploader`). */
  readonly resident: ResidentDataset | null;
  readonly uploader: BatchUploader | null;
  /** Several steps' uniforms staged for one submission; null at one step per submission. */
  readonly ring: StepUniforms | null;
  /** Rows the plan holds: min(batch size, training rows). */
  readonly capacity: number;
  /** ⌈training rows / batch size⌉. */
  readonly stepsPerEpoch: number;
  /** Steps between reads of the running loss (0: only at epoch ends). */
  readonly progressEvery: number;
  /** The learning rate of the run's step t (0-based, counted over the whole run). */
  learningRate(t: number): number;
  /** The epoch's row order, [training rows], shuffled in place each epoch. */
  readonly order: Uint32Array;
  /** A mean training loss that is not finite or is far above where training starts. */
  exploded(loss: number): boolean;
  /** 'mse': what R² of the epoch's steps needs (the targets' total sum of squares). */
  readonly r2Of?: { width: number; totalSquares: number };
}

/** The plan, optimizer and data placement of a fit; its kernels recorded for a checkpoint, its recipe too. */
async function buildSteps(m: TrainingView, train: AnyDataset, options: FitOptions, fit: CheckedFit): Promise<TrainingSteps> {
  const capacity = Math.min(fit.batchSize, train.count);
  // Pipelines and bind groups are made here: a bad one fails now, before the first step.
  const { plan, optimizer, constraints } = await checkedGpuWork(m.device, 'building the training plan', () => ({
    plan: m.plan('train', capacity, fit.augment),
    optimizer: m.useOptimizer(options.optimizer),
    constraints: options.maxNorm === undefined ? [] : m.maxNormDispatches(options.maxNorm),
  }));
  const { resident, uploader } = placeData(m, train, options, fit, plan);
  const batchInput = resident ? plan.gatherFrom(resident) : plan.batchInput;
  const dispatches = [...batchInput, ...plan.forward, ...plan.loss, ...plan.backward, ...optimizer.updates, ...constraints];
  recordKernels(m, dispatches, options.onNote);
  m.lastRecipe = {
    batchSize: fit.batchSize, optimizer: optimizer.config, schedule: options.schedule, labelSmoothing: fit.labelSmoothing, maxNorm: options.maxNorm,
    ...(fit.augment ? { augment: fit.augment } : {}),
  };
  const stepsPerEpoch = Math.ceil(train.count / fit.batchSize);
  // The schedule runs over the whole run: the epochs done before this fit (a resume) and this fit's.
  const clock = { stepsPerEpoch, totalSteps: (m.epochsDone + fit.epochs) * stepsPerEpoch };
  const learningRate = (t: number) =>
    options.schedule ? scheduledLearningRate(options.schedule, optimizer.config.lr, t, clock) : optimizer.config.lr;
  const stepsPerSubmit = resident ? fit.stepsPerSubmit ?? m.choices.stepsPerSubmit ?? 1 : 1;
  const ring = stepsPerSubmit > 1
    ? new StepUniforms(m.device, plan.batch, plan.batchWords.buffer, optimizer.uniform, optimizer.uniformWords.buffer, Math.min(stepsPerSubmit, stepsPerEpoch))
    : null;
  return {
    fit, plan, optimizer, dispatches, resident, uploader, ring, capacity, stepsPerEpoch, progressEvery: options.progressEvery ?? 50, learningRate,
    order: new Uint32Array(train.count), ...divergenceOf(m, train),
  };
}

/**
 * Where the training set lives. It stays in GPU memory when it fits one binding: batches are gathered there, and
 * a step uploads only its uniforms, several steps to a submission. Otherwise the host uploads each batch.
 * Asking for several steps per submission asks for the data on the GPU, which they need. Augmented fits keep it
 * there as quads, which the distortion samples four times faster than rows (src/augment/quads.ts).
 */
function placeData(m: TrainingView, train: AnyDataset, options: FitOptions, fit: CheckedFit, plan: ModelPlan) {
  const severalSteps = (fit.stepsPerSubmit ?? 1) > 1;
  if (options.gpuResidentData === false && severalSteps) throw new BadInputError('stepsPerSubmit > 1 needs gpuResidentData');
  const keepOnGpu = options.gpuResidentData ?? (severalSteps || fit.augment !== undefined || (m.choices.gpuResidentData ?? false));
  const quads = plan.augmentImage;
  const resident = keepOnGpu && ResidentDataset.fits(m.device, train, quads) ? m.residentData(train, quads) : null;
  return { resident, uploader: resident ? null : new BatchUploader(plan, m.architecture.inputs) };
}

/** Records the step's kernels (a checkpoint keeps them); a resumed run on other kernels says it will not match bit for bit. */
function recordKernels(m: TrainingView, dispatches: Dispatch[], onNote: FitOptions['onNote']): void {
  const trained = kernelRecord(dispatches);
  const resumedFrom = m.kernels.resumedFrom;
  if (resumedFrom && resumedFrom.digest !== trained.digest) {
    const changed = trained.matmuls.filter((label, i) => label !== resumedFrom.matmuls[i]);
    (onNote ?? console.warn)(`resume: the checkpoint was trained with other kernels (${resumedFrom.digest}, now ${trained.digest}${changed.length ? `; ${changed.join('; ')}` : ''}): the run goes on, but not bit for bit with one that never stopped`);
  }
  m.kernels = { trained };
}

/**
 * A loss far above a uniform guess's (ln classes, where a fresh model starts) is divergence even while it is
 * finite: Adam at lr 1e6 reaches 1e16 and would go on to a useless model. With float targets, the loss of
 * predicting zeros is the scale: the mean squared target ('mse'), ln 2 ('bce'). 'mse' also gets R²'s denominator.
 */
function divergenceOf(m: TrainingView, train: AnyDataset): Pick<TrainingSteps, 'exploded' | 'r2Of'> {
  const { classes } = m.architecture;
  // [training rows × classes], row-major.
  const targets = takesTargets(m.loss) ? train.targets!.values.subarray(0, train.count * classes) : undefined;
  const explodedAbove = EXPLOSION_FACTOR * (m.loss === 'mse' ? Math.max(1, targets!.reduce((a, t) => a + t * t, 0) / targets!.length) : m.loss === 'bce' ? Math.LN2 : Math.log(classes));
  const r2Of = m.loss === 'mse' ? { width: classes, totalSquares: totalSumOfSquares(targets!, train.count, classes) } : undefined;
  return { exploded: (loss) => !Number.isFinite(loss) || loss > explodedAbove, ...(r2Of && { r2Of }) };
}

/** Where an epoch's steps stand: the loop and the submissions advance it. */
interface EpochRun {
  /** Steps taken, 1-based once one is. */
  step: number;
  /** Rows trained on so far. */
  samples: number;
  /** The loss and correct counts summed over the rows so far, as last read back (at `readStep`). */
  totals: { lossSum: number; correct: number };
  readStep: number;
  /** A signal or shouldStop ended the epoch early. */
  stopped: boolean;
}

/** Steps with the epoch's index, a submission holds; onStep is told of each once it is submitted. */
type Group = { step: number; samples: number }[];

/**
 * One epoch: shuffles the row order, then submits its steps, several to a submission where the ring allows,
 * reading the totals back only at progress points and the end. `firstStepDone` is called once the first submission is done.
 */
async function runEpoch(m: TrainingView, train: AnyDataset, options: FitOptions, s: TrainingSteps, epoch: number, firstStepDone?: () => void): Promise<EpochRun> {
  for (let i = 0; i < s.order.length; i++) s.order[i] = i;
  m.random.shuffle(s.order);
  s.resident?.writeOrder(s.order);
  const run: EpochRun = { step: 0, samples: 0, totals: { lossSum: 0, correct: 0 }, readStep: 0, stopped: false };
  // The epoch runs inside WebGPU error scopes, and says so when the device is lost on the way.
  await m.whileDeviceLives(() => checkedGpuWork(m.device, `training epoch ${epoch}`, async () => {
    const inFlight: Promise<unknown>[] = [];
    while (run.step < s.stepsPerEpoch && !run.stopped) {
      const encoder = m.device.createCommandEncoder();
      const { group, progress } = encodeSubmission(m, train, options, s, run, epoch, encoder);
      run.readStep = progress ? run.step : run.readStep;
      if (group.length === 0) break;
      if (progress) encoder.copyBufferToBuffer(s.plan.stats, 0, s.plan.statsStaging, 0, s.plan.stats.size);
      s.ring?.flush(group.length);
      m.device.queue.submit([encoder.finish()]);
      if (group[0].step === 1 && firstStepDone) void m.device.queue.onSubmittedWorkDone().then(firstStepDone, firstStepDone);
      let loss: number | undefined;
      let accuracy: number | undefined;
      if (progress) {
        ({ loss, accuracy } = await readProgress(m, s, run, epoch));
        inFlight.length = 0;
      } else {
        inFlight.push(m.device.queue.onSubmittedWorkDone());
        if (inFlight.length >= MAX_SUBMISSIONS_IN_FLIGHT) await inFlight.shift();
      }
      m.throwIfLost();
      for (const [i, g] of group.entries()) {
        options.onStep?.({ epoch, step: g.step, stepsPerEpoch: s.stepsPerEpoch, samples: g.samples, ...(i === group.length - 1 && { loss, accuracy }) });
      }
    }
    // Stopped between progress points: read the totals of the steps taken.
    if (run.step > 0 && run.readStep !== run.step) await readStoppedTotals(m, s, run, epoch);
  }));
  return run;
}

/**
 * One submission's steps, encoded into `encoder`: steps until the group is full (the ring's slots), a progress
 * point, the epoch's end, or a stop. `progress` asks the caller to copy the totals out and read them.
 */
function encodeSubmission(
  m: TrainingView, train: AnyDataset, options: FitOptions, s: TrainingSteps, run: EpochRun, epoch: number, encoder: GPUCommandEncoder,
): { group: Group; progress: boolean } {
  const group: Group = [];
  let progress = false;
  while (!progress && group.length < (s.ring?.slots ?? 1)) {
    if ((run.stopped = stopAsked(options))) break;
    run.step++;
    const rows = Math.min(s.fit.batchSize, train.count - run.samples);
    writeStepUniforms(m, train, s, run, epoch, rows, encoder, group.length);
    run.samples += rows;
    if (run.step === 1) encoder.clearBuffer(s.plan.stats);
    const pass = encoder.beginComputePass();
    encodeDispatches(pass, s.dispatches);
    pass.end();
    group.push({ step: run.step, samples: run.samples });
    // Also after an epoch's first step, so a loss shows from the start: the queue holds only that step
    // then (the last epoch ended in a read); the wait for it is one short stall an epoch.
    progress = run.step === s.stepsPerEpoch || (s.progressEvery > 0 && (run.step === 1 || run.step % s.progressEvery === 0));
  }
  return { group, progress };
}

/** FitOptions.signal aborted, or shouldStop said so: asked before each step. */
const stopAsked = (options: FitOptions) => (options.signal?.aborted ?? false) || (options.shouldStop?.() ?? false);

/**
 * The step's batch and optimizer uniforms (rows, first row, step count, learning rate): staged into the ring's
 * `slot` and copied in by `encoder` when steps share a submission, else written on the queue now, with the
 * batch's rows when the host uploads them.
 */
function writeStepUniforms(m: TrainingView, train: AnyDataset, s: TrainingSteps, run: EpochRun, epoch: number, rows: number, encoder: GPUCommandEncoder, slot: number): void {
  const lr = s.learningRate((epoch - 1) * s.stepsPerEpoch + run.step - 1);
  const fields = { rows, start: run.samples, step: s.optimizer.step + 1, labelSmoothing: s.fit.labelSmoothing, seed: m.seed };
  if (s.ring) {
    packBatchUniform(s.plan.batchWords, fields);
    s.optimizer.nextStepWords(lr);
    s.ring.stage(encoder, slot);
  } else {
    if (s.uploader) s.uploader.upload(train, s.order, run.samples, rows, fields);
    else s.plan.writeBatch(fields);
    s.optimizer.writeNextStep(lr);
  }
}

/** At a progress point, the one readback: the running totals (copied out by that submission), checked for divergence. */
async function readProgress(m: TrainingView, s: TrainingSteps, run: EpochRun, epoch: number): Promise<{ loss: number; accuracy: number }> {
  run.totals = await m.readStats(s.plan, s.capacity);
  const { loss, accuracy } = lossMetrics(m.loss, run.totals, run.samples);
  // Thrown inside the epoch's error scopes: a WebGPU error, if any, is reported instead (it explains more).
  if (s.exploded(loss)) throw new DivergedError(epoch, run.step, loss);
  return { loss, accuracy };
}

/** A stop between progress points: the totals of the steps taken, in a submission of their own. */
async function readStoppedTotals(m: TrainingView, s: TrainingSteps, run: EpochRun, epoch: number): Promise<void> {
  const encoder = m.device.createCommandEncoder();
  encoder.copyBufferToBuffer(s.plan.stats, 0, s.plan.statsStaging, 0, s.plan.stats.size);
  m.device.queue.submit([encoder.finish()]);
  run.totals = await m.readStats(s.plan, s.capacity);
  if (s.exploded(run.totals.lossSum / run.samples)) throw new DivergedError(epoch, run.step, run.totals.lossSum / run.samples);
}

/** The epoch's training metrics and speed; R² only over a whole epoch (its denominator is the whole set's). */
function epochInfo(m: TrainingView, s: TrainingSteps, run: EpochRun, epoch: number, seconds: number): EpochInfo {
  // The last step is always a progress point, so `totals` holds the whole epoch.
  const metrics = lossMetrics(m.loss, run.totals, run.samples, run.step === s.stepsPerEpoch ? s.r2Of : undefined);
  return {
    epoch,
    trainLoss: metrics.loss,
    trainAccuracy: metrics.accuracy,
    ...(metrics.meanAbsoluteError !== undefined && { trainMeanAbsoluteError: metrics.meanAbsoluteError }),
    ...(metrics.r2 !== undefined && { trainR2: metrics.r2 }),
    ...(metrics.labelAccuracy !== undefined && { trainLabelAccuracy: metrics.labelAccuracy }),
    seconds,
    samplesPerSecond: run.samples / seconds,
    ...(run.step < s.stepsPerEpoch && { partial: true }),
  };
}

/**
 * Early stopping and restoreBest: the best validation result of this fit so far (isBetter), the epochs since,
 * and with `weights` a GPU copy of the best epoch's parameters (no readback) put back at the end.
 */
class BestEpoch {
  private best?: Evaluation;
  private sinceBest = 0;

  constructor(private readonly weights: BestWeights | null, private readonly patience: number | undefined) {}

  /** Marks `info.best` when `validation` beats the best so far, keeping its weights. */
  judge(info: EpochInfo, validation: Evaluation): void {
    info.best = isBetter(validation, this.best);
    if (info.best) {
      this.best = validation;
      this.sinceBest = 0;
      this.weights?.keep();
    } else this.sinceBest++;
  }

  get patienceRanOut(): boolean {
    return this.patience !== undefined && this.sinceBest >= this.patience;
  }

  restore(): void {
    if (this.weights && this.best) this.weights.restore();
  }

  destroy(): void {
    this.weights?.destroy();
  }
}
