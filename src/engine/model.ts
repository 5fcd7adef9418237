// The public model: fit / evaluate / predict / gradients / dispose over an MLP whose state stays on the GPU.
// A training step = its batch (gathered on the GPU from a training set kept there, or uploaded as u8 pixels and
// labels) and its uniforms + one compute pass; one submission carries one step or several.
// The host reads back only at progress points (every `progressEvery` steps) and at the end of an epoch.
import { checkDataset, checkFinite, checkInputKind, type AnyDataset, type InputKind } from '../data/dataset.js';
import { packBatchUniform } from '../../shaders/batchUniform.js';
import { BatchUploader, StepUniforms } from './batches.js';
import { ResidentDataset } from './residentData.js';
import { BestWeights } from './bestWeights.js';
import { loadCheckpoint, modelOptionsFromCheckpoint, saveCheckpoint, type SaveOptions } from './checkpoint.js';
import { decodeSafetensors, type SafetensorsFile } from '../data/safetensors.js';
import { checkedGpuWork } from './gpuErrors.js';
import { BadInputError, DeviceLostError, DivergedError, MisuseError } from '../errors.js';
import { encodeDispatches, pipelineCacheFor, type Dispatch } from './dispatch.js';
import { architectureOf, initialParams, MlpParameters, type MlpConfig } from './mlp.js';
import type { Architecture } from '../layers/architecture.js';
import { Ops } from './ops.js';
import { GpuOptimizer, resolveOptimizer, type OptimizerConfig } from './optimizer.js';
import { inputEncodingOf, ModelPlan, type InputEncoding, type PlanMode } from './plan.js';
import { Random } from './random.js';
import { sliceOf, slotOf } from './paramLayout.js';
import { scheduledLearningRate, validateSchedule, type ScheduleConfig } from './schedule.js';
import { DEFAULT_VARIANTS, type VariantChoices } from './variants.js';

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
  /** The epoch was stopped before its last step (shouldStop). */
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

export interface FitOptions {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  validation?: AnyDataset;
  /** Read the running loss back every this many steps (0: only at epoch ends). Default 50. */
  progressEvery?: number;
  onStep?: (info: StepInfo) => void;
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
  /** Checked between steps; returning true ends fit after the current step (the demo's Stop button). */
  shouldStop?: () => boolean;
  /**
   * Training steps encoded into one submission (default: the variants' choice, 4 on GPUs, 1 on software
   * adapters; always 1 when the training set is not kept in GPU memory). More saves per-submission
   * overhead on fast GPUs;
   * the result is the same bit for bit. Progress points and stops still fall on their exact step.
   */
  stepsPerSubmit?: number;
  /** Learning-rate schedule over this fit's epochs and those done before it (see schedule.ts). Default constant. */
  schedule?: ScheduleConfig;
  /** ε of PyTorch's CrossEntropyLoss(label_smoothing=ε) for training; evaluation reports plain cross-entropy. Default 0. */
  labelSmoothing?: number;
  /** Early stopping: end fit after this many epochs without a better validation accuracy (needs validation). */
  patience?: number;
  /** Max-norm: after each update, scale every unit's incoming weights (each linear layer) to L2 norm ≤ this. */
  maxNorm?: number;
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

export interface ModelOptions extends MlpConfig {
  variants?: VariantChoices;
  /** Rows per evaluation/prediction batch. Default 1000. */
  evaluationBatch?: number;
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
  readonly parameters: MlpParameters;
  readonly random: Random;
  readonly ops: Ops;
  optimizer?: GpuOptimizer;
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
  private epochsDone = 0;
  private resident?: ResidentDataset;
  /** The last fit's batch size and optimizer, recorded in checkpoints. */
  lastFit?: { batchSize: number; optimizer: OptimizerConfig; schedule?: ScheduleConfig; labelSmoothing?: number; maxNorm?: number };
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
    this.evaluationBatch = options.evaluationBatch ?? 1000;
    void device.lost.then((info) => {
      this.lostInfo = info;
    });
    this.parameters.upload(initialParams(this.parameters.layout, this.architecture, this.random));
  }

  get classes(): number {
    return this.architecture.classes;
  }

  /** Epochs completed so far (restored from a checkpoint on resume). */
  get epochs(): number {
    return this.epochsDone;
  }

  set epochs(value: number) {
    if (!(Number.isInteger(value) && value >= 0)) throw new Error(`epochs done must be a non-negative integer, got ${value}`);
    this.epochsDone = value;
  }

  /** The plan for a mode and batch capacity, built on first use. */
  plan(mode: PlanMode, capacity: number): ModelPlan {
    const key = `${mode}:${capacity}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = new ModelPlan(this.parameters, this.ops, capacity, mode, this.inputEncoding);
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Drops the optimizer and its state (moments, step count): the next fit starts it fresh. */
  resetOptimizer(): void {
    this.optimizer?.destroy();
    this.optimizer = undefined;
  }

  /** Sets the optimizer; its state (moments, step count) is kept across fit calls while the config is the same. */
  useOptimizer(config: OptimizerConfig): GpuOptimizer {
    const same = this.optimizer && JSON.stringify(this.optimizer.config) === JSON.stringify(resolveOptimizer(config));
    if (!same) {
      this.optimizer?.destroy();
      this.optimizer = new GpuOptimizer(this.parameters, this.ops, config);
    }
    return this.optimizer!;
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
    checkDataset(train, this.sizes[0], this.classes, this.input);
    if (options.validation) checkDataset(options.validation, this.sizes[0], this.classes, this.input);
    if (train.count === 0) throw new Error(`${train.name}: no images to train on`);

    const capacity = Math.min(batchSize, train.count);
    // Pipelines and bind groups are made here: a bad one fails now, before the first step.
    const { plan, optimizer, constraints } = await checkedGpuWork(this.device, 'building the training plan', () => ({
      plan: this.plan('train', capacity),
      optimizer: this.useOptimizer(options.optimizer),
      constraints: options.maxNorm === undefined ? [] : this.maxNormDispatches(options.maxNorm),
    }));
    this.lastFit = { batchSize, optimizer: options.optimizer, schedule: options.schedule, labelSmoothing, maxNorm: options.maxNorm };
    // The training set stays in GPU memory when it fits one binding: batches are gathered there, and a step
    // uploads only its uniforms, several steps to a submission. Otherwise the host uploads each batch.
    // Asking for several steps per submission asks for the data on the GPU, which they need.
    if (options.gpuResidentData === false && (asked ?? 1) > 1) throw new Error('stepsPerSubmit > 1 needs gpuResidentData');
    const keepOnGpu = options.gpuResidentData ?? ((asked ?? 1) > 1 || (this.ops.choices.gpuResidentData ?? false));
    const resident = keepOnGpu && ResidentDataset.fits(this.device, train) ? this.residentData(train) : null;
    const uploader = resident ? null : new BatchUploader(plan, this.sizes[0]);
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
        let stopped = false;
        let step = 0;
        // The epoch runs inside WebGPU error scopes, and says so when the device is lost on the way.
        await this.whileDeviceLives(() => checkedGpuWork(this.device, `training epoch ${epoch}`, async () => {
          const inFlight: Promise<unknown>[] = [];
          while (step < stepsPerEpoch && !stopped) {
            // One submission: steps until the group is full, a progress point, the epoch's end, or a stop.
            const encoder = this.device.createCommandEncoder();
            const group: { step: number; samples: number }[] = [];
            let progress = false;
            while (!progress && group.length < (ring?.slots ?? 1)) {
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
              stopped = options.shouldStop?.() ?? false;
              progress = step === stepsPerEpoch || stopped || (progressEvery > 0 && step % progressEvery === 0);
            }
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
        }));
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
        this.epochsDone = epoch;
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
  async evaluate(data: AnyDataset): Promise<Evaluation> {
    this.checkUsable('evaluate');
    return checkedGpuWork(this.device, `evaluating ${data.name}`, () => this.evaluateUnguarded(data));
  }

  private async evaluateUnguarded(data: AnyDataset): Promise<Evaluation> {
    checkDataset(data, this.sizes[0], this.classes, this.input);
    if (data.count === 0) throw new Error(`${data.name}: no images to evaluate`);
    const capacity = this.inferenceCapacity(data.count);
    const plan = this.plan('evaluate', capacity);
    const uploader = new BatchUploader(plan, this.sizes[0]);
    const dispatches = [...plan.forward, ...plan.loss];
    for (let start = 0; start < data.count; start += capacity) {
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
  async predict(images: Uint8Array | Float32Array, count = images.length / this.sizes[0]): Promise<Float32Array> {
    this.checkUsable('predict');
    const F = this.sizes[0];
    const [row, unit, values] = checkInputKind('predict', images, this.input) === 'u8' ? ['images', 'pixel', 'bytes'] : ['rows', 'feature', 'values'];
    if (!Number.isInteger(count) || count < 1) {
      throw new BadInputError(`predict: ${images.length} ${values} is not a whole, positive number of ${F}-${unit} ${row}`, { value: images.length });
    }
    if (images.length < count * F) throw new BadInputError(`predict: ${count} ${row} of ${F} ${unit}s need ${count * F} ${values}, got ${images.length}`, { value: images.length });
    checkFinite('predict', images, count, F);
    return checkedGpuWork(this.device, 'prediction', () => this.predictUnguarded(images, count));
  }

  private async predictUnguarded(images: Uint8Array | Float32Array, count: number): Promise<Float32Array> {
    const F = this.sizes[0];
    const data = { name: 'predict', images, labels: new Uint8Array(count), count, features: F } as AnyDataset;
    const capacity = this.inferenceCapacity(count);
    const plan = this.plan('predict', capacity);
    const uploader = new BatchUploader(plan, F);
    const out = new Float32Array(count * this.classes);
    for (let start = 0; start < count; start += capacity) {
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
    checkDataset(data, this.sizes[0], this.classes, this.input);
    const plan = this.plan('train', data.count);
    new BatchUploader(plan, this.sizes[0]).upload(data, null, 0, data.count, { ...batch, seed: this.seed });
    this.encode([...plan.forward, ...plan.loss, ...plan.backward], (enc) => enc.clearBuffer(plan.stats));
    return this.parameters.download(this.parameters.grads);
  }

  /**
   * A model shaped by a safetensors file (this engine's, or a PyTorch nn.Sequential state dict) with its weights,
   * and its optimizer state, step and RNG when the file is a full checkpoint. `name` is for error messages.
   */
  static fromSafetensors(
    device: GPUDevice, source: Uint8Array | SafetensorsFile, name = 'model.safetensors', options: Pick<ModelOptions, 'variants' | 'evaluationBatch'> = {},
  ): Model {
    // A caller that already decoded the file (to read its metadata) passes it as is: it is read once.
    const file = source instanceof Uint8Array ? decodeSafetensors(source, name) : source;
    const model = new Model(device, { ...modelOptionsFromCheckpoint(file, name), ...options });
    try {
      loadCheckpoint(model, file, name);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /** The model as safetensors bytes (PyTorch-loadable weights; `{ full: true }` adds what resuming needs). */
  async toSafetensors(options: SaveOptions = {}): Promise<Uint8Array> {
    this.checkUsable('toSafetensors');
    return saveCheckpoint(this, options);
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
