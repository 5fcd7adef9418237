// The public model: fit / evaluate / predict / gradients / dispose over an MLP whose state stays on the GPU.
// A training step = its batch (gathered on the GPU from a training set kept there, or uploaded as rows of u8
// pixels or f32 features, and labels) and its uniforms + one compute pass; one submission carries one step or
// several. The host reads back only at progress points (every `progressEvery` steps), at a stop and at the end
// of an epoch. Its whole state goes out and comes back as plain data (exportState / importState).
import { checkDataset, checkFinite, checkInputKind, type AnyDataset, type InputKind } from '../data/dataset.js';
import { packBatchUniform } from '../../shaders/batchUniform.js';
import { BatchUploader, StepUniforms } from './batches.js';
import { ResidentDataset } from './residentData.js';
import { BestWeights } from './bestWeights.js';
import { decodeModelState, encodeModelState, type SaveOptions } from './checkpoint.js';
import type { SafetensorsFile, Tensor } from '../data/safetensors.js';
import { checkedGpuWork } from '../gpu/gpuErrors.js';
import { BadInputError, DeviceLostError, DivergedError, MisuseError } from '../errors.js';
import { encodeDispatches, pipelineCacheFor, type Dispatch } from '../gpu/dispatch.js';
import { architectureOf, initialParams, MlpParameters, type MlpConfig } from './mlp.js';
import { statesOf, type Architecture } from '../layers/architecture.js';
import { Ops } from '../gpu/ops.js';
import { GpuOptimizer, resolveOptimizer, type OptimizerConfig } from './optimizer.js';
import {
  checkRecipe, checkSameModel, checkTrainingCounts, fromTorchTensors, OPTIMIZER_STATE_NAMES, optimizerStateFromTensors, toTorchTensors,
  type ModelState,
} from './modelState.js';
import type { TrainingRecipe } from './recipe.js';
import { inputEncodingOf, ModelPlan, type InputEncoding, type PlanMode } from './plan.js';
import { Random } from '../gpu/random.js';
import { sliceOf, slotOf } from './paramLayout.js';
import { scheduledLearningRate, validateSchedule, type ScheduleConfig } from './schedule.js';
import { DEFAULT_VARIANTS, type VariantChoices } from '../gpu/variants.js';

export interface StepInfo {
  epoch: number;
  /** Step within the epoch, 1-based. */
  step: number;
  stepsPerEpoch: number;
  /** Images trained on so far in this epoch. */
  samples: number;
  /** Mean training loss so far in this epoch; present only at progress points (a GPU readback). */
  loss?: number;
  /** Training accuracy so far in this epoch (the share of its rows classified right); with `loss`. */
  accuracy?: number;
}

export interface EpochInfo {
  epoch: number;
  /** The epoch was stopped before its last step (signal or shouldStop); `model.epochs` does not count it. */
  partial?: boolean;
  /** Its validation result is the best of this fit so far. */
  best?: boolean;
  trainLoss: number;
  trainAccuracy: number;
  validation?: Evaluation;
  seconds: number;
  samplesPerSecond: number;
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
}

export interface FitOptions extends TrainingRecipe {
  epochs: number;
  /**
   * The optimizer. Its state (moments, step count) carries over from the last fit while the kind is the same,
   * and new hyperparameters (a lower learning rate, say) apply to it; `reset: true` starts it afresh.
   */
  optimizer: OptimizerConfig & { reset?: boolean };
  validation?: AnyDataset;
  /** Read the running loss back every this many steps (0: only at epoch ends). Default 50. */
  progressEvery?: number;
  onStep?: (info: StepInfo) => void;
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
  /** Early stopping: end fit after this many epochs without a better validation accuracy (needs validation). */
  patience?: number;
  /**
   * At the end of fit, put back the weights of the epoch with the best validation accuracy (ties: lower
   * validation loss). Default: on when patience is set.
   */
  restoreBest?: boolean;
  /**
   * Keep the training set in GPU memory and gather batches there, when it fits one binding (default: the
   * variants' choice, on for GPUs). Needed for more than one step per submission.
   */
  gpuResidentData?: boolean;
}

/** For evaluate and predict: an aborted signal rejects the call with its reason before the next batch. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface PredictOptions extends CallOptions {
  /** Images to predict (default: all that `images` holds). */
  count?: number;
}

export interface ModelOptions extends MlpConfig {
  variants?: VariantChoices;
  /** Rows per evaluation/prediction batch. Default 1000, fewer where a layer's buffers would pass 64 MiB. */
  evaluationBatch?: number;
  /** Run each ReLU inside its neighbours' kernels (src/engine/fusion.ts). Default true; off for comparisons. */
  fuse?: boolean;
}

/** The largest buffer a layer of an inference plan gets, per batch: what bounds the default evaluation batch. */
const INFERENCE_BUFFER_BYTES = 64 * 2 ** 20;

/** 1000 rows, or the largest power of two whose biggest layer buffer (activations, im2col columns) fits 64 MiB. */
function defaultEvaluationBatch(arch: Architecture): number {
  const floatsPerRow = Math.max(...arch.layers.map((l) => Math.max(l.outputs, l.module.scratchPerRow?.(l.spec, l) ?? 0)));
  let rows = 1000;
  while (rows > 1 && rows * floatsPerRow * 4 > INFERENCE_BUFFER_BYTES) rows = 2 ** Math.floor(Math.log2(rows - 1));
  return rows;
}

/** Higher accuracy wins; on a tie, lower loss. */
const isBetter = (e: Evaluation, than?: Evaluation) => !than || e.accuracy > than.accuracy || (e.accuracy === than.accuracy && e.loss < than.loss);

/** Waits once this many submissions are unfinished, so progress reflects the GPU, not the encoder. */
const MAX_SUBMISSIONS_IN_FLIGHT = 2;

export class Model {
  readonly architecture: Architecture;
  /** Widths through the linear layers, inputs first ([784, 500, 10]). */
  readonly sizes: number[];
  /** Seeds initialization and shuffling (through `random`) and keys dropout's masks; a full checkpoint restores it. */
  seed: number;
  private readonly parameters: MlpParameters;
  private readonly random: Random;
  private readonly ops: Ops;
  private optimizer?: GpuOptimizer;
  /** What a row of input holds: u8 pixels or f32 features (ModelOptions.input); data sets must match. */
  readonly input: InputKind;
  private readonly inputEncoding: InputEncoding;
  private readonly plans = new Map<string, ModelPlan>();
  private readonly constraints = new Map<number, Dispatch[]>();
  private fitting = false;
  private disposed = false;
  /** Set when the device is lost; a fit in progress then ends with a DeviceLostError. */
  private lostInfo?: GPUDeviceLostInfo;
  private readonly evaluationBatch: number;
  private readonly fuse: boolean;
  private epochsDone = 0;
  private resident?: ResidentDataset;
  /** The last fit's recipe, recorded in checkpoints. */
  private lastRecipe?: TrainingRecipe;
  readonly pixelNormalization: { mean: number; std: number };

  constructor(readonly device: GPUDevice, options: ModelOptions = {}) {
    this.architecture = architectureOf(options);
    this.sizes = this.architecture.sizes;
    this.parameters = new MlpParameters(device, this.architecture);
    this.seed = options.seed ?? 0;
    if (!(Number.isInteger(this.seed) && this.seed >= 0 && this.seed < 2 ** 32)) throw new Error(`seed must be an integer in 0..2³²−1, got ${this.seed}`);
    this.random = new Random(this.seed);
    this.ops = new Ops(pipelineCacheFor(device), options.variants ?? DEFAULT_VARIANTS);
    this.inputEncoding = inputEncodingOf(options);
    this.input = this.inputEncoding.kind;
    this.pixelNormalization = { mean: options.pixelMean ?? 0, std: options.pixelStd ?? 1 };
    this.evaluationBatch = options.evaluationBatch ?? defaultEvaluationBatch(this.architecture);
    this.fuse = options.fuse ?? true;
    void device.lost.then((info) => {
      this.lostInfo = info;
    });
    this.parameters.upload(initialParams(this.parameters.layout, this.architecture, this.random));
  }

  get classes(): number {
    return this.architecture.classes;
  }

  /** Whole epochs trained so far (a stopped, partial epoch is not counted; restored from a full checkpoint). */
  get epochs(): number {
    return this.epochsDone;
  }

  /** Parameters (weights and biases) in the model. */
  get parameterCount(): number {
    return this.parameters.layout.parameterCount;
  }

  /** Optimizer updates applied so far (PyTorch's `step`); 0 before training or after a reset. */
  get step(): number {
    return this.optimizer?.step ?? 0;
  }

  /** The last fit's recipe (its optimizer with every hyperparameter filled in), or undefined before any fit. */
  get recipe(): TrainingRecipe | undefined {
    return this.lastRecipe && { ...this.lastRecipe, optimizer: this.optimizer?.config ?? this.lastRecipe.optimizer };
  }

  /** The plan for a mode and batch capacity, built on first use. */
  private plan(mode: PlanMode, capacity: number): ModelPlan {
    const key = `${mode}:${capacity}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = new ModelPlan(this.parameters, this.ops, capacity, mode, this.inputEncoding, this.fuse);
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Drops the optimizer and its state (moments, step count): the next fit starts it fresh. */
  resetOptimizer(): void {
    this.optimizer?.destroy();
    this.optimizer = undefined;
  }

  /**
   * The optimizer for `config`: the current one when the kind is the same (its moments and step count kept,
   * the new hyperparameters taken: they are uniforms, so no pipeline changes), else a fresh one.
   */
  private useOptimizer(config: OptimizerConfig & { reset?: boolean }): GpuOptimizer {
    const { reset, ...rest } = config;
    const resolved = resolveOptimizer(rest);
    if (reset || this.optimizer?.config.kind !== resolved.kind) {
      this.optimizer?.destroy();
      this.optimizer = new GpuOptimizer(this.parameters, this.ops, resolved);
    } else this.optimizer.config = resolved;
    return this.optimizer;
  }

  private encode(dispatches: Dispatch[], before?: (e: GPUCommandEncoder) => void, after?: (e: GPUCommandEncoder) => void): void {
    const encoder = this.device.createCommandEncoder();
    before?.(encoder);
    const pass = encoder.beginComputePass();
    encodeDispatches(pass, dispatches);
    pass.end();
    after?.(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  private async readStats(plan: ModelPlan, rows: number): Promise<{ lossSum: number; correct: number }> {
    await plan.statsStaging.mapAsync(GPUMapMode.READ);
    const stats = new Float32Array(plan.statsStaging.getMappedRange(), 0, rows * 2);
    let lossSum = 0;
    let correct = 0;
    for (let r = 0; r < rows; r++) {
      lossSum += stats[2 * r];
      correct += stats[2 * r + 1];
    }
    plan.statsStaging.unmap();
    return { lossSum, correct };
  }

  async fit(train: AnyDataset, options: FitOptions): Promise<EpochInfo[]> {
    this.checkUsable('fit');
    if (this.fitting) throw new MisuseError('fit: another fit of this model is still running; await it first');
    this.fitting = true;
    try {
      return await this.fitUnguarded(train, options);
    } finally {
      this.fitting = false;
    }
  }

  private async fitUnguarded(train: AnyDataset, options: FitOptions): Promise<EpochInfo[]> {
    const { epochs, batchSize } = options;
    if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`epochs must be a positive integer, got ${epochs}`);
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
    const asked = options.stepsPerSubmit;
    if (asked !== undefined && !(Number.isInteger(asked) && asked >= 1)) throw new Error(`stepsPerSubmit must be a positive integer, got ${asked}`);
    const labelSmoothing = options.labelSmoothing ?? 0;
    if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new Error(`labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
    if (options.schedule) validateSchedule(options.schedule);
    if (options.maxNorm !== undefined && !(options.maxNorm > 0 && Number.isFinite(options.maxNorm))) throw new Error(`maxNorm must be a positive number, got ${options.maxNorm}`);
    const patience = options.patience;
    if (patience !== undefined && !(Number.isInteger(patience) && patience >= 1)) throw new Error(`patience must be a positive integer, got ${patience}`);
    const restoreBest = options.restoreBest ?? patience !== undefined;
    if ((patience !== undefined || restoreBest) && !options.validation) throw new Error('patience and restoreBest need a validation set');
    checkDataset(train, this.architecture.inputs, this.classes, this.input);
    if (options.validation) checkDataset(options.validation, this.architecture.inputs, this.classes, this.input);
    if (train.count === 0) throw new Error(`${train.name}: no images to train on`);

    const capacity = Math.min(batchSize, train.count);
    // Pipelines and bind groups are made here: a bad one fails now, before the first step.
    const { plan, optimizer, constraints } = await checkedGpuWork(this.device, 'building the training plan', () => ({
      plan: this.plan('train', capacity),
      optimizer: this.useOptimizer(options.optimizer),
      constraints: options.maxNorm === undefined ? [] : this.maxNormDispatches(options.maxNorm),
    }));
    this.lastRecipe = { batchSize, optimizer: optimizer.config, schedule: options.schedule, labelSmoothing, maxNorm: options.maxNorm };
    // The training set stays in GPU memory when it fits one binding: batches are gathered there, and a step
    // uploads only its uniforms, several steps to a submission. Otherwise the host uploads each batch.
    // Asking for several steps per submission asks for the data on the GPU, which they need.
    if (options.gpuResidentData === false && (asked ?? 1) > 1) throw new Error('stepsPerSubmit > 1 needs gpuResidentData');
    const keepOnGpu = options.gpuResidentData ?? ((asked ?? 1) > 1 || (this.ops.choices.gpuResidentData ?? false));
    const resident = keepOnGpu && ResidentDataset.fits(this.device, train) ? this.residentData(train) : null;
    const uploader = resident ? null : new BatchUploader(plan, this.architecture.inputs);
    const gather = resident ? [plan.gatherFrom(resident)] : [];
    const stepDispatches = [...gather, ...plan.forward, ...plan.loss, ...plan.backward, optimizer.update, ...constraints];
    const stepsPerEpoch = Math.ceil(train.count / batchSize);
    // The schedule runs over the whole run: the epochs done before this fit (a resume) and this fit's.
    const clock = { stepsPerEpoch, totalSteps: (this.epochsDone + epochs) * stepsPerEpoch };
    const learningRate = (t: number) =>
      options.schedule ? scheduledLearningRate(options.schedule, optimizer.config.lr, t, clock) : optimizer.config.lr;
    const progressEvery = options.progressEvery ?? 50;
    const stepsPerSubmit = resident ? asked ?? this.ops.choices.stepsPerSubmit ?? 1 : 1;
    const ring = stepsPerSubmit > 1
      ? new StepUniforms(this.device, plan.batch, plan.batchWords.buffer, optimizer.uniform, optimizer.uniformWords.buffer, Math.min(stepsPerSubmit, stepsPerEpoch))
      : null;
    const best = restoreBest ? new BestWeights(this.parameters) : null;
    const order = new Uint32Array(train.count);
    const stopAsked = () => (options.signal?.aborted ?? false) || (options.shouldStop?.() ?? false);
    const history: EpochInfo[] = [];
    let bestValidation: Evaluation | undefined;
    let sinceBest = 0;

    try {
      for (let e = 0; e < epochs; e++) {
        const epoch = this.epochsDone + 1;
        const started = performance.now();
        for (let i = 0; i < order.length; i++) order[i] = i;
        this.random.shuffle(order);
        resident?.writeOrder(order);
        let totals = { lossSum: 0, correct: 0 };
        let samples = 0;
        let step = 0;
        let stopped = false;
        let readStep = 0;
        // The epoch runs inside WebGPU error scopes, and says so when the device is lost on the way.
        await this.whileDeviceLives(() => checkedGpuWork(this.device, `training epoch ${epoch}`, async () => {
          const inFlight: Promise<unknown>[] = [];
          while (step < stepsPerEpoch && !stopped) {
            // One submission: steps until the group is full, a progress point, the epoch's end, or a stop.
            const encoder = this.device.createCommandEncoder();
            const group: { step: number; samples: number }[] = [];
            let progress = false;
            while (!progress && group.length < (ring?.slots ?? 1)) {
              if ((stopped = stopAsked())) break;
              step++;
              const rows = Math.min(batchSize, train.count - samples);
              const lr = learningRate((epoch - 1) * stepsPerEpoch + step - 1);
              const fields = { rows, start: samples, step: optimizer.step + 1, labelSmoothing, seed: this.seed };
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
              progress = step === stepsPerEpoch || (progressEvery > 0 && step % progressEvery === 0);
            }
            readStep = progress ? step : readStep;
            if (group.length === 0) break;
            if (progress) encoder.copyBufferToBuffer(plan.stats, 0, plan.statsStaging, 0, plan.stats.size);
            ring?.flush(group.length);
            this.device.queue.submit([encoder.finish()]);
            let loss: number | undefined;
            let accuracy: number | undefined;
            if (progress) {
              totals = await this.readStats(plan, capacity);
              loss = totals.lossSum / samples;
              accuracy = totals.correct / samples;
              inFlight.length = 0;
              // Thrown inside the epoch's error scopes: a WebGPU error, if any, is reported instead (it explains more).
              if (!Number.isFinite(loss)) throw new DivergedError(epoch, step, loss);
            } else {
              inFlight.push(this.device.queue.onSubmittedWorkDone());
              if (inFlight.length >= MAX_SUBMISSIONS_IN_FLIGHT) await inFlight.shift();
            }
            this.throwIfLost();
            for (const [i, g] of group.entries()) {
              options.onStep?.({ epoch, step: g.step, stepsPerEpoch, samples: g.samples, ...(i === group.length - 1 && { loss, accuracy }) });
            }
          }
          // Stopped between progress points: read the totals of the steps taken.
          if (step > 0 && readStep !== step) {
            const encoder = this.device.createCommandEncoder();
            encoder.copyBufferToBuffer(plan.stats, 0, plan.statsStaging, 0, plan.stats.size);
            this.device.queue.submit([encoder.finish()]);
            totals = await this.readStats(plan, capacity);
            if (!Number.isFinite(totals.lossSum)) throw new DivergedError(epoch, step, totals.lossSum / samples);
          }
        }));
        // Stopped before this epoch's first step: nothing to report.
        if (step === 0) break;
        // The last step is always a progress point, so `totals` holds the whole epoch.
        const { lossSum, correct } = totals;
        const seconds = (performance.now() - started) / 1000;
        const info: EpochInfo = {
          epoch,
          trainLoss: lossSum / samples,
          trainAccuracy: correct / samples,
          seconds,
          samplesPerSecond: samples / seconds,
        };
        if (step < stepsPerEpoch) info.partial = true;
        if (options.validation) {
          info.validation = await this.evaluate(options.validation);
          info.best = isBetter(info.validation, bestValidation);
          if (info.best) {
            bestValidation = info.validation;
            sinceBest = 0;
            best?.keep();
          } else sinceBest++;
        }
        if (!info.partial) this.epochsDone = epoch;
        history.push(info);
        // The callback's own GPU work (a checkpoint's read-back) fails in its own way on a lost device.
        await this.whileDeviceLives(async () => options.onEpoch?.(info));
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

  /**
   * Rows per evaluation/prediction batch for `count` images: a power of two up to evaluationBatch, so that
   * many different counts share a few plans (the rows uniform masks the unused ones).
   */
  private inferenceCapacity(count: number): number {
    return Math.min(this.evaluationBatch, 2 ** Math.ceil(Math.log2(Math.max(1, count))));
  }

  /** Mean cross-entropy loss and accuracy over a data set; one readback at the end. */
  async evaluate(data: AnyDataset, options: CallOptions = {}): Promise<Evaluation> {
    this.checkUsable('evaluate');
    return checkedGpuWork(this.device, `evaluating ${data.name}`, () => this.evaluateUnguarded(data, options.signal));
  }

  private async evaluateUnguarded(data: AnyDataset, signal?: AbortSignal): Promise<Evaluation> {
    checkDataset(data, this.architecture.inputs, this.classes, this.input);
    if (data.count === 0) throw new Error(`${data.name}: no images to evaluate`);
    const capacity = this.inferenceCapacity(data.count);
    const plan = this.plan('evaluate', capacity);
    const uploader = new BatchUploader(plan, this.architecture.inputs);
    const dispatches = [...plan.forward, ...plan.loss];
    for (let start = 0; start < data.count; start += capacity) {
      signal?.throwIfAborted();
      const rows = uploader.upload(data, null, start, Math.min(capacity, data.count - start));
      const last = start + rows >= data.count;
      this.encode(
        dispatches,
        start === 0 ? (enc) => enc.clearBuffer(plan.stats) : undefined,
        last ? (enc) => enc.copyBufferToBuffer(plan.stats, 0, plan.statsStaging, 0, plan.stats.size) : undefined,
      );
    }
    const { lossSum, correct } = await this.readStats(plan, capacity);
    return { loss: lossSum / data.count, accuracy: correct / data.count, count: data.count };
  }

  /**
   * Class probabilities, [count × classes] row-major. `images` holds count × inputs values of the model's
   * input kind: u8 pixels (a Uint8Array) or f32 features (a Float32Array).
   */
  async predict(images: Uint8Array | Float32Array, options: PredictOptions = {}): Promise<Float32Array> {
    this.checkUsable('predict');
    const { count = images.length / this.architecture.inputs, signal } = options;
    const F = this.architecture.inputs;
    const [row, unit, values] = checkInputKind('predict', images, this.input) === 'u8' ? ['images', 'pixel', 'bytes'] : ['rows', 'feature', 'values'];
    if (!Number.isInteger(count) || count < 1) {
      throw new BadInputError(`predict: ${images.length} ${values} is not a whole, positive number of ${F}-${unit} ${row}`, { value: images.length });
    }
    if (images.length < count * F) throw new BadInputError(`predict: ${count} ${row} of ${F} ${unit}s need ${count * F} ${values}, got ${images.length}`, { value: images.length });
    checkFinite('predict', images, count, F);
    return checkedGpuWork(this.device, 'prediction', () => this.predictUnguarded(images, count, signal));
  }

  private async predictUnguarded(images: Uint8Array | Float32Array, count: number, signal?: AbortSignal): Promise<Float32Array> {
    const F = this.architecture.inputs;
    const data = { name: 'predict', images, labels: new Uint8Array(count), count, features: F } as AnyDataset;
    const capacity = this.inferenceCapacity(count);
    const plan = this.plan('predict', capacity);
    const uploader = new BatchUploader(plan, F);
    const out = new Float32Array(count * this.classes);
    for (let start = 0; start < count; start += capacity) {
      signal?.throwIfAborted();
      const rows = uploader.upload(data, null, start, Math.min(capacity, count - start));
      this.encode(plan.forward, undefined, (enc) =>
        enc.copyBufferToBuffer(plan.probabilities!, 0, plan.probabilitiesStaging!, 0, plan.probabilities!.size),
      );
      await plan.probabilitiesStaging!.mapAsync(GPUMapMode.READ);
      out.set(new Float32Array(plan.probabilitiesStaging!.getMappedRange(), 0, rows * this.classes), start * this.classes);
      plan.probabilitiesStaging!.unmap();
    }
    return out;
  }

  /**
   * Loss gradients of one batch (no update): the flat gradient buffer read back, in the parameters' layout.
   * `step` keys dropout's masks (as the optimizer step being taken would), `labelSmoothing` the loss.
   * For checking the model against a reference; training never reads gradients.
   */
  async gradients(data: AnyDataset, batch: { step?: number; labelSmoothing?: number } = {}): Promise<Float32Array> {
    this.checkUsable('gradients');
    checkDataset(data, this.architecture.inputs, this.classes, this.input);
    const plan = this.plan('train', data.count);
    new BatchUploader(plan, this.architecture.inputs).upload(data, null, 0, data.count, { ...batch, seed: this.seed });
    this.encode([...plan.forward, ...plan.loss, ...plan.backward], (enc) => enc.clearBuffer(plan.stats));
    return this.parameters.download(this.parameters.grads);
  }

  /**
   * The model's state as plain data: what builds it, its weights under PyTorch's names and shapes, its epoch
   * count and last recipe; `{ full: true }` adds what continuing the run bit for bit needs (optimizer state,
   * step, RNG). Checkpoints encode this (toSafetensors); importState takes it back.
   */
  async exportState(options: { full?: boolean } = {}): Promise<ModelState> {
    this.checkUsable('exportState');
    const arch = this.architecture;
    const { layout } = this.parameters;
    const state: ModelState = {
      inputs: arch.inputShape.length === 1 ? arch.inputs : [...arch.inputShape],
      layers: arch.layers.map((l) => l.spec),
      seed: this.seed,
      input: this.input,
      ...(this.input === 'u8' && { pixelMean: this.pixelNormalization.mean, pixelStd: this.pixelNormalization.std }),
      tensors: new Map([
        ...toTorchTensors(await this.parameters.download(), layout, arch),
        ...toTorchTensors(await this.parameters.downloadState(), this.parameters.stateLayout, statesOf(arch)),
        // PyTorch's BatchNorm counts its training forwards: here, one per optimizer step.
        ...arch.layers.filter((l) => l.spec.kind === 'batchnorm')
          .map((l): [string, Tensor] => [`${l.index}.num_batches_tracked`, { shape: [], data: Float32Array.of(this.step), dtype: 'I64' }]),
      ]),
      epochs: this.epochsDone,
      step: this.step,
      recipe: this.recipe,
    };
    if (options.full) {
      const optimizer = new Map<string, Tensor>();
      if (this.optimizer) {
        const names = OPTIMIZER_STATE_NAMES[this.optimizer.config.kind];
        for (const [i, buffer] of this.optimizer.state.entries()) {
          for (const entry of toTorchTensors(await this.parameters.download(buffer), layout, arch, `optimizer.${names[i]}.`)) optimizer.set(...entry);
        }
      }
      state.training = { rng: this.random.state, optimizer };
    }
    return state;
  }

  /**
   * Takes a state exported by this engine (or decoded from a checkpoint): weights, and from a full state the
   * optimizer state, step, epochs, recipe, seed and RNG. Everything is checked before anything is written
   * (the same layers, every tensor's name, shape and values), so a bad state leaves the model as it was.
   * `source` names the state in error messages (a file name, say).
   */
  importState(state: ModelState, source = 'state'): void {
    this.checkUsable('importState');
    const arch = this.architecture;
    const { layout } = this.parameters;
    checkSameModel(state, arch, this.input, source);
    checkTrainingCounts(state, source);
    const params = fromTorchTensors(state.tensors, source, layout, arch);
    const kept = fromTorchTensors(state.tensors, source, this.parameters.stateLayout, statesOf(arch));
    for (const s of statesOf(arch).filter((s) => s.role === 'running_var')) {
      const slot = slotOf(this.parameters.stateLayout, s.name);
      if (kept.subarray(slot.offset, slot.offset + slot.length).some((v) => v < 0)) throw new BadInputError(`${source}: ${s.name} holds a negative variance`, { file: source, tensor: s.name });
    }
    const training = state.training;
    const recipe = training && state.recipe ? checkRecipe(state.recipe, source) : undefined;
    const optimizerState = training && recipe ? optimizerStateFromTensors(training, state.step, recipe.optimizer.kind, source, layout, arch) : [];
    if (training && !(Number.isInteger(state.seed) && state.seed >= 0 && state.seed < 2 ** 32)) throw new BadInputError(`${source}: seed ${state.seed} is not an integer in 0..2³²−1`, { file: source });

    this.parameters.upload(params);
    this.parameters.uploadState(kept);
    // Weights alone (or a state taken before any step) carry no optimizer state: start it fresh.
    this.resetOptimizer();
    if (!training) return;
    if (recipe && optimizerState.length > 0) {
      const optimizer = this.useOptimizer(recipe.optimizer);
      optimizerState.forEach((s, i) => this.device.queue.writeBuffer(optimizer.state[i], 0, s));
      optimizer.step = state.step;
    }
    this.random.state = training.rng;
    // The seed keys dropout's masks: the resumed run draws the masks the uninterrupted one would have.
    this.seed = state.seed;
    this.epochsDone = state.epochs;
    this.lastRecipe = recipe;
  }

  /** A new model shaped by a state (see exportState), holding it. */
  static fromState(device: GPUDevice, state: ModelState, source = 'state', options: Pick<ModelOptions, 'variants' | 'evaluationBatch'> = {}): Model {
    const { inputs, layers, seed, input, pixelMean, pixelStd } = state;
    const model = new Model(device, { inputs, layers, seed, input, ...(input === 'u8' && { pixelMean, pixelStd }), ...options });
    try {
      model.importState(state, source);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /**
   * A model shaped by a safetensors file (this engine's, or a PyTorch nn.Sequential state dict) with its weights,
   * and its optimizer state, step and RNG when the file is a full checkpoint. `name` is for error messages.
   */
  static fromSafetensors(
    device: GPUDevice, source: Uint8Array | SafetensorsFile, name = 'model.safetensors', options: Pick<ModelOptions, 'variants' | 'evaluationBatch'> = {},
  ): Model {
    return Model.fromState(device, decodeModelState(source, name), name, options);
  }

  /** The model as safetensors bytes (PyTorch-loadable weights; `{ full: true }` adds what resuming needs). */
  async toSafetensors(options: SaveOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
    return encodeModelState(await this.exportState(options), options.metadata);
  }

  /** The flat parameters (layout: this.parameters.layout). */
  async getParams(): Promise<Float32Array> {
    this.checkUsable('getParams');
    return this.parameters.download();
  }

  setParams(flat: Float32Array): void {
    this.checkUsable('setParams');
    this.parameters.upload(flat);
  }

  /** The max-norm constraint on every linear layer's weight, built once per value. */
  private maxNormDispatches(c: number): Dispatch[] {
    let dispatches = this.constraints.get(c);
    if (!dispatches) {
      const { layout, params } = this.parameters;
      dispatches = this.architecture.layers
        .filter((l) => l.spec.kind === 'linear')
        .map((l) => this.ops.maxNorm(sliceOf(params, slotOf(layout, `${l.index}.weight`)), l.inputs, l.outputs, c));
      this.constraints.set(c, dispatches);
    }
    return dispatches;
  }

  /** The training set in GPU memory, uploaded on first use and kept while fit is given the same one. */
  private residentData(train: AnyDataset): ResidentDataset {
    if (this.resident?.data !== train) {
      this.resident?.destroy();
      this.resident = new ResidentDataset(this.device, train);
    }
    return this.resident;
  }

  /** A lost device makes every later call fail in its own way: this says what happened instead. */
  private throwIfLost(): void {
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message);
  }

  /** Runs `body`; when it fails because the device was lost, a DeviceLostError says so instead. */
  private async whileDeviceLives<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      this.throwIfLost();
      throw e;
    }
  }

  private checkUsable(call: string): void {
    if (this.disposed) throw new MisuseError(`${call}: the model was disposed`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.resident?.destroy();
    this.resident = undefined;
    for (const plan of this.plans.values()) plan.destroy();
    this.plans.clear();
    this.optimizer?.destroy();
    this.parameters.destroy();
  }
}

/**
 * The engine's own handles on a model (GPU parameters, kernels, plans, RNG, optimizer), for benchmarks, the
 * kernel comparisons and tests. Not part of the public API: src/index.ts does not export it.
 */
export function modelInternals(model: Model) {
  return {
    parameters: model['parameters'],
    ops: model['ops'],
    random: model['random'],
    get optimizer() {
      return model['optimizer'];
    },
    plan: (mode: PlanMode, capacity: number) => model['plan'](mode, capacity),
    useOptimizer: (config: OptimizerConfig & { reset?: boolean }) => model['useOptimizer'](config),
  };
}
