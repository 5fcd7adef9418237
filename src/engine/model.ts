// The public model: fit / evaluate / predict / gradients / dispose over a network whose state stays on the GPU.
// fit runs the training loop of fit.ts over the model's TrainingView; evaluate and predict run the plan's
// forward over batches, reading back once at the end. Its whole state goes out and comes back as plain data
// (exportState / importState).
import { checkDataset, checkFinite, checkInputKind, type AnyDataset, type InputKind } from '../data/dataset.js';
import { BatchUploader } from './batches.js';
import { ResidentDataset } from './residentData.js';
import { decodeModelState, encodeModelState, type SaveOptions } from './checkpoint.js';
import type { OnnxOptions } from '../export/onnx.js';
import { registerInternals } from './internals.js';
import { runFit, type EpochInfo, type Evaluation, type FitOptions, type KernelRecord, type TrainingView } from './fit.js';
import { decodeSafetensors, type SafetensorsFile, type Tensor } from '../data/safetensors.js';
import { matchWeights, type LoadReport, type LoadWeightsOptions } from './loadWeights.js';
import { formatSummary, summarize, type ModelSummary } from './summary.js';
import { checkedGpuWork } from '../gpu/gpuErrors.js';
import { BadInputError, DeviceLostError, DivergedError, MisuseError } from '../errors.js';
import { encodeDispatches, pipelineCacheFor, type Dispatch } from '../gpu/dispatch.js';
import { architectureOf, initialParams, MlpParameters, type NetworkConfig } from './mlp.js';
import { statesOf, type Architecture } from '../layers/architecture.js';
import { Ops } from '../gpu/ops.js';
import { GpuOptimizer, resolveOptimizer, type OptimizerConfig } from './optimizer.js';
import {
  checkModelState, checkSameModel, fromTorchTensors, OPTIMIZER_STATE_NAMES, optimizerStateFromTensors, toTorchTensors,
  type ModelState,
} from './modelState.js';
import type { TrainingRecipe } from './recipe.js';
import type { ModelSource } from '../data/modelSource.js';
import { inputEncodingOf, ModelPlan, type InputEncoding, type PlanMode } from './plan.js';
import { Random } from '../gpu/random.js';
import { sliceOf, slotOf } from './paramLayout.js';
import { DEFAULT_VARIANTS, defaultVariantsFor, type VariantChoices } from '../gpu/variants.js';
import { checkPrecision, halfPrecisionVariants, type Precision } from '../gpu/precision.js';
import { adapterOfDevice } from '../gpu/device.js';
import { augmentedImageOf, formatAugmentation, type Augmentation, type ImageSize } from '../augment/spec.js';
import { loadAugmentKernels } from '../augment/kernels.js';
import { lossMetrics, lossOf, totalSumOfSquares, type LossKind } from '../data/loss.js';

export type { EpochInfo, Evaluation, FitOptions, StepInfo } from './fit.js';
export { modelInternals, type ModelInternals } from './internals.js';

/** For evaluate and predict: an aborted signal rejects the call with its reason before the next batch. */
export interface CallOptions {
  /** Aborting it rejects the call with the signal's reason before its next batch. */
  signal?: AbortSignal;
}

export interface PredictOptions extends CallOptions {
  /** Images to predict (default: all that `images` holds). */
  count?: number;
}

/** Options of Model.predictClasses. */
export interface PredictClassesOptions extends PredictOptions {
  /** 'bce': a label is 1 where its probability is at or above this, else 0. Default 0.5. */
  threshold?: number;
}

/** Options of Model.load and loadModel: how the loaded model runs, and a signal that cancels a download. */
export type LoadOptions = Pick<ModelOptions, 'variants' | 'evaluationBatch' | 'precision'> & {
  /** Aborting it cancels the download (a URL); the call rejects with the signal's reason. */
  signal?: AbortSignal;
};

/** Options of `new Model`: what builds the network (NetworkConfig) and how its kernels run. */
export interface ModelOptions extends NetworkConfig {
  /** The kernel variants (src/gpu/variants.ts). Default: the adapter's, GPU kernels on GPUs and the software ones otherwise. */
  variants?: VariantChoices;
  /**
   * The big products' arithmetic (src/gpu/precision.ts): 'f32' (default), or 'f16', f16 × f16 → f32 with
   * weights, optimizer and reductions in f32; 'f16' needs the device's shader-f16 feature (MissingFeatureError).
   */
  precision?: Precision;
  /** Rows per evaluation/prediction batch. Default 1000, fewer where a layer's buffers would pass 64 MiB. */
  evaluationBatch?: number;
  /** Run each elementwise activation inside its neighbours' kernels (src/engine/fusion.ts). Default true; off for comparisons. */
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

/**
 * A network on one WebGPU device, its weights, optimizer state and plans kept there: fit, evaluate, predict,
 * gradients, and its whole state out and back in (exportState / importState, safetensors, ONNX). Build one with
 * `new Model(device, options)` or from a checkpoint (fromSafetensors, fromState); dispose() frees its GPU memory.
 *
 * @example
 * ```ts
 * import { Model, openNodeDevice, parseLayers } from 'webgpu-mlp/node';
 * const gpu = await openNodeDevice();
 * const mlp = new Model(gpu.device, { layers: parseLayers('linear:500,relu,linear:10'), seed: 0 });  // 784 pixels in
 * const cnn = new Model(gpu.device, { layers: parseLayers('conv2d:8:k=5,relu,maxpool2d:2,flatten,linear:10') });
 * ```
 */
export class Model {
  /** Its layers as placed: each one's index, input and output shapes and parameters, and the class count. */
  readonly architecture: Architecture;
  /** The big products' arithmetic: 'f32', or 'f16' (f16 × f16 → f32) when ModelOptions.precision asked for it. */
  readonly precision: Precision;
  /** Seeds initialization and shuffling (through `random`) and keys dropout's masks; a full checkpoint restores it. */
  seed: number;
  private readonly parameters: MlpParameters;
  private readonly random: Random;
  private readonly ops: Ops;
  private optimizer?: GpuOptimizer;
  /** What a row of input holds: u8 pixels or f32 features (ModelOptions.input); data sets must match. */
  readonly input: InputKind;
  /**
   * The loss it trains with (ModelOptions.loss): 'cross-entropy' against class labels, 'mse' or 'bce' against
   * float targets. It decides what predict gives and which metrics evaluate and fit report.
   */
  readonly loss: LossKind;
  private readonly inputEncoding: InputEncoding;
  private readonly plans = new Map<string, ModelPlan>();
  private readonly constraints = new Map<number, Dispatch[]>();
  private fitting = false;
  /** evaluate and predict calls not yet settled: their buffers are in flight, so dispose() waits for them. */
  private pending = 0;
  private disposed = false;
  /** Set when the device is lost; a fit in progress then ends with a DeviceLostError. */
  private lostInfo?: GPUDeviceLostInfo;
  private readonly evaluationBatch: number;
  private readonly fuse: boolean;
  private epochsDone = 0;
  /** The step a weights-only file records, reported until a fit starts an optimizer (whose count starts at 0). */
  private loadedStep = 0;
  private resident?: ResidentDataset;
  /** The last fit's recipe, recorded in checkpoints. */
  private lastRecipe?: TrainingRecipe;
  private kernels: { trained?: KernelRecord; resumedFrom?: KernelRecord } = {};
  /** The last fit ended in a DivergedError: its weights are not to be used until replaced. */
  private diverged = false;
  /** How u8 pixels are read: (x/255 − mean) / std; mean 0 and std 1 unless ModelOptions set them. Unused for f32. */
  readonly pixelNormalization: {
    /** The pixel mean on the x/255 scale (ModelOptions.pixelMean). */
    mean: number;
    /** The pixel standard deviation on the x/255 scale (ModelOptions.pixelStd). */
    std: number;
  };

  /**
   * A freshly initialized model (PyTorch's default initialization, drawn from `seed`). Every option is checked
   * before anything is allocated: a BadInputError leaves nothing on the GPU.
   * @param device The WebGPU device the model's buffers and kernels live on; once it is lost, calls throw DeviceLostError.
   * @param options What to build (default: the 784-500-10 MLP of u8 MNIST pixels, seed 0).
   */
  constructor(readonly device: GPUDevice, options: ModelOptions = {}) {
    // Every option is checked before anything is allocated, so a refused model leaves nothing on the GPU.
    this.architecture = architectureOf(options);
    this.seed = options.seed ?? 0;
    if (!(Number.isInteger(this.seed) && this.seed >= 0 && this.seed < 2 ** 32)) throw new BadInputError(`seed must be an integer in 0..2³²−1, got ${this.seed}`);
    this.inputEncoding = inputEncodingOf(options);
    this.input = this.inputEncoding.kind;
    this.loss = lossOf(options.loss);
    this.pixelNormalization = { mean: options.pixelMean ?? 0, std: options.pixelStd ?? 1 };
    const batch = options.evaluationBatch;
    if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1)) throw new BadInputError(`evaluationBatch must be a positive integer, got ${batch}`, { value: batch });
    this.evaluationBatch = batch ?? defaultEvaluationBatch(this.architecture);
    this.fuse = options.fuse ?? true;
    this.random = new Random(this.seed);
    // The adapter's defaults unless the caller picks: GPU kernels on GPUs, the software ones otherwise.
    const adapter = adapterOfDevice(device);
    this.precision = checkPrecision(options.precision ?? 'f32', device, adapter ? `${adapter.vendor} / ${adapter.architecture}` : undefined);
    const choices = options.variants ?? (adapter ? defaultVariantsFor(adapter) : DEFAULT_VARIANTS);
    this.ops = new Ops(pipelineCacheFor(device), this.precision === 'f16' ? halfPrecisionVariants(choices) : choices);
    this.parameters = new MlpParameters(device, this.architecture);
    void device.lost.then((info) => {
      this.lostInfo = info;
    });
    try {
      this.parameters.upload(initialParams(this.parameters.layout, this.architecture, this.random));
    } catch (e) {
      this.parameters.destroy();
      throw e;
    }
    const model = this;
    registerInternals(this, {
      parameters: this.parameters, ops: this.ops, random: this.random,
      get optimizer() { return model.optimizer; },
      plan: (mode, capacity, augmentation) => this.plan(mode, capacity, augmentation),
      useOptimizer: (config) => this.useOptimizer(config),
    });
  }

  /** Classes the model tells apart: the width of its last layer. */
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

  /**
   * Optimizer updates applied so far (PyTorch's `step`); 0 before training or after a reset. A model loaded from
   * a weights-only file reports the file's step until its next fit, whose fresh optimizer counts from 0.
   */
  get step(): number {
    return this.optimizer?.step ?? this.loadedStep;
  }

  /**
   * The last fit's recipe (its optimizer with every hyperparameter filled in), or undefined before any fit; a
   * loaded model keeps its file's.
   */
  get recipe(): TrainingRecipe | undefined {
    return this.lastRecipe && { ...this.lastRecipe, optimizer: this.optimizer?.config ?? this.lastRecipe.optimizer };
  }

  /** The plan for a mode and batch capacity, built on first use. */
  private plan(mode: PlanMode, capacity: number, augmentation?: Augmentation): ModelPlan {
    const augment = mode === 'train' && augmentation ? { augmentation, image: augmentedImageOf(this.architecture.inputShape, augmentation) } : undefined;
    const key = `${mode}:${capacity}${augment ? `:${formatAugmentation(augmentation)}` : ''}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = new ModelPlan(this.parameters, this.ops, capacity, mode, this.inputEncoding, { fuse: this.fuse, augment, loss: this.loss });
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Drops the optimizer and its state (moments, step count): the next fit starts it fresh. */
  resetOptimizer(): void {
    this.optimizer?.destroy();
    this.optimizer = undefined;
    this.loadedStep = 0;
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

  /**
   * Trains on `train` for `options.epochs` epochs (fewer when stopped or early-stopped), continuing from the
   * current weights and, while the optimizer kind is the same, its state. Resolves with one EpochInfo per epoch.
   * One fit at a time (a second throws MisuseError); after a DivergedError the weights may not be used until
   * replaced (a new fit, setParams, importState).
   *
   * @example
   * ```ts
   * const { train, validation } = splitMnist(loadMnist());
   * const epochs = await model.fit(train, {
   *   epochs: 3, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 }, validation,
   *   onEpoch: (e) => console.log(`epoch ${e.epoch}: val acc ${e.validation?.accuracy}`),
   * });
   * ```
   */
  async fit(train: AnyDataset, options: FitOptions): Promise<EpochInfo[]> {
    this.checkUsable('fit');
    if (this.fitting) throw new MisuseError('fit: another fit of this model is still running; await it first');
    this.fitting = true;
    try {
      const history = await this.fitUnguarded(train, options);
      this.diverged = false;
      return history;
    } catch (e) {
      // The weights a divergence leaves are not finite (or are absurd): nothing may use or save them.
      if (e instanceof DivergedError) this.diverged = true;
      throw e;
    } finally {
      this.fitting = false;
    }
  }

  private async fitUnguarded(train: AnyDataset, options: FitOptions): Promise<EpochInfo[]> {
    if (options.augment) await loadAugmentKernels();
    return runFit(this.trainingView(), train, options);
  }

  /** What the training loop (fit.ts) uses of this model, and nothing else. */
  private trainingView(): TrainingView {
    const model = this;
    return {
      device: this.device, architecture: this.architecture, input: this.input, loss: this.loss, random: this.random,
      parameters: this.parameters, choices: this.ops.choices,
      get seed() { return model.seed; },
      get epochsDone() { return model.epochsDone; },
      set epochsDone(e: number) { model.epochsDone = e; },
      set lastRecipe(r: TrainingRecipe) { model.lastRecipe = r; },
      get kernels() { return model.kernels; },
      set kernels(k) { model.kernels = k; },
      plan: (mode, capacity, augmentation) => this.plan(mode, capacity, augmentation),
      useOptimizer: (config) => this.useOptimizer(config),
      maxNormDispatches: (c) => this.maxNormDispatches(c),
      residentData: (data, quads) => this.residentData(data, quads),
      readStats: (plan, rows) => this.readStats(plan, rows),
      evaluate: (data) => this.evaluate(data),
      whileDeviceLives: (body) => this.whileDeviceLives(body),
      throwIfLost: () => this.throwIfLost(),
    };
  }

  /**
   * Rows per evaluation/prediction batch for `count` images: a power of two up to evaluationBatch, so that
   * many different counts share a few plans (the rows uniform masks the unused ones).
   */
  private inferenceCapacity(count: number): number {
    return Math.min(this.evaluationBatch, 2 ** Math.ceil(Math.log2(Math.max(1, count))));
  }

  /**
   * The mean loss over a data set and its task's metrics: accuracy ('cross-entropy'), mean absolute error and R²
   * ('mse'), per-label accuracy ('bce'); one readback at the end.
   *
   * @example
   * ```ts
   * const { loss, accuracy } = await model.evaluate(test);   // accuracy is a fraction: 0.9777
   * ```
   */
  async evaluate(data: AnyDataset, options: CallOptions = {}): Promise<Evaluation> {
    this.checkWeightsUsable('evaluate');
    return this.whilePending(() => checkedGpuWork(this.device, `evaluating ${data.name}`, () => this.evaluateUnguarded(data, options.signal)));
  }

  private async evaluateUnguarded(data: AnyDataset, signal?: AbortSignal): Promise<Evaluation> {
    checkDataset(data, this.architecture.inputs, this.classes, this.input, this.loss);
    if (data.count === 0) throw new BadInputError(`${data.name}: no images to evaluate`);
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
    const sums = await this.readStats(plan, capacity);
    const r2Of = this.loss === 'mse' ? { width: this.classes, totalSquares: totalSumOfSquares(data.targets!.values, data.count, this.classes) } : undefined;
    return { ...lossMetrics(this.loss, sums, data.count, r2Of), count: data.count };
  }

  /**
   * What the model makes of each row, [count × outputs] row-major: class probabilities ('cross-entropy', a
   * softmax), per-label probabilities ('bce', a sigmoid per output) or the values themselves ('mse'). `images`
   * holds count × inputs values of the model's input kind: u8 pixels (a Uint8Array) or f32 features (a Float32Array).
   *
   * @example
   * ```ts
   * const probabilities = await model.predict(test.images.subarray(0, 2 * 784), { count: 2 });  // [2 × 10]
   * const first = probabilities.subarray(0, 10);
   * console.log(`first digit: ${first.indexOf(Math.max(...first))}`);
   * ```
   */
  async predict(images: Uint8Array | Float32Array, options: PredictOptions = {}): Promise<Float32Array> {
    this.checkWeightsUsable('predict');
    const [row, unit, values] = checkInputKind('predict', images, this.input) === 'u8' ? ['images', 'pixel', 'bytes'] : ['rows', 'feature', 'values'];
    const { count = images.length / this.architecture.inputs, signal } = options;
    const F = this.architecture.inputs;
    if (!Number.isInteger(count) || count < 1) {
      throw new BadInputError(`predict: ${images.length} ${values} is not a whole, positive number of ${F}-${unit} ${row}`, { value: images.length });
    }
    if (images.length < count * F) throw new BadInputError(`predict: ${count} ${row} of ${F} ${unit}s need ${count * F} ${values}, got ${images.length}`, { value: images.length });
    checkFinite('predict', images, count, F);
    return this.whilePending(() => checkedGpuWork(this.device, 'prediction', () => this.predictUnguarded(images, count, signal)));
  }

  /**
   * Predicted labels: the class of each row (first arg-max of its probabilities, [count]) for 'cross-entropy';
   * a 0/1 per label ([count × outputs], 1 where the probability is at or above `threshold`, default 0.5) for
   * 'bce'. A regression ('mse') has no classes: refused with a MisuseError.
   * @example
   * const digits = await model.predictClasses(images); // Uint32Array, one class per image
   */
  async predictClasses(images: Uint8Array | Float32Array, options: PredictClassesOptions = {}): Promise<Uint32Array> {
    if (this.loss === 'mse') throw new MisuseError("predictClasses: a regression model ('mse') predicts values, not classes; use predict");
    const { threshold = 0.5, ...rest } = options;
    if (!(threshold >= 0 && threshold <= 1)) throw new BadInputError(`predictClasses: threshold must be in [0, 1], got ${threshold}`, { value: threshold });
    const probabilities = await this.predict(images, rest);
    const C = this.classes;
    if (this.loss === 'bce') return Uint32Array.from(probabilities, (p) => (p >= threshold ? 1 : 0));
    const classes = new Uint32Array(probabilities.length / C);
    for (let r = 0; r < classes.length; r++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (probabilities[r * C + c] > probabilities[r * C + best]) best = c;
      classes[r] = best;
    }
    return classes;
  }

  /** Runs an evaluate or predict, counted as pending until it settles. */
  private async whilePending<T>(body: () => Promise<T>): Promise<T> {
    this.pending++;
    try {
      return await body();
    } finally {
      this.pending--;
    }
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
    checkDataset(data, this.architecture.inputs, this.classes, this.input, this.loss);
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
    this.checkWeightsUsable('exportState');
    const arch = this.architecture;
    const { layout } = this.parameters;
    const state: ModelState = {
      inputs: arch.inputShape.length === 1 ? arch.inputs : [...arch.inputShape],
      layers: arch.layers.map((l) => l.spec),
      seed: this.seed,
      input: this.input,
      ...(this.input === 'u8' && { pixelMean: this.pixelNormalization.mean, pixelStd: this.pixelNormalization.std }),
      loss: this.loss,
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
      state.training = { rng: this.random.state, optimizer, ...(this.kernels.trained ? { kernels: this.kernels.trained } : {}) };
    }
    return state;
  }

  /**
   * Takes a state exported by this engine (or decoded from a checkpoint): weights, epochs, step and recipe, and
   * from a full state the optimizer state, seed and RNG. Everything is checked before anything is written
   * (the same layers, every tensor's name, shape and values), so a bad state leaves the model as it was.
   * `source` names the state in error messages (a file name, say).
   */
  importState(state: ModelState, source = 'state'): void {
    this.checkUsable('importState');
    const arch = this.architecture;
    const { layout } = this.parameters;
    checkSameModel(state, arch, this.input, source);
    // A state without a loss (an older file, a PyTorch state dict) may be any task's weights.
    if (state.loss !== undefined && lossOf(state.loss) !== this.loss) {
      throw new BadInputError(`${source}: holds a model trained with loss '${state.loss}', this one trains with '${this.loss}'`, { file: source, value: state.loss });
    }
    // The check every reader of a model file and ONNX export share; what follows only converts.
    const { recipe } = checkModelState(state, source);
    const params = fromTorchTensors(state.tensors, source, layout, arch);
    const kept = fromTorchTensors(state.tensors, source, this.parameters.stateLayout, statesOf(arch));
    const training = state.training;
    const optimizerState = training && recipe ? optimizerStateFromTensors(training, state.step, recipe.optimizer.kind, source, layout, arch) : [];

    this.parameters.upload(params);
    this.parameters.uploadState(kept);
    this.diverged = false;
    // Weights alone (or a state taken before any step) carry no optimizer state: start it fresh.
    this.resetOptimizer();
    // What trained it, as its file records (a weights-only file too): reported by epochs, step and recipe.
    this.epochsDone = state.epochs;
    this.lastRecipe = recipe;
    this.loadedStep = state.step;
    if (!training) return;
    if (recipe && optimizerState.length > 0) {
      const optimizer = this.useOptimizer(recipe.optimizer);
      optimizerState.forEach((s, i) => this.device.queue.writeBuffer(optimizer.state[i], 0, s));
      optimizer.step = state.step;
    }
    this.random.state = training.rng;
    // The seed keys dropout's masks: the resumed run draws the masks the uninterrupted one would have.
    this.seed = state.seed;
    this.kernels = { resumedFrom: training.kernels };
  }

  /** A new model shaped by a state (see exportState), holding it. */
  static fromState(device: GPUDevice, state: ModelState, source = 'state', options: Pick<ModelOptions, 'variants' | 'evaluationBatch' | 'precision'> = {}): Model {
    const { inputs, layers, seed, input, pixelMean, pixelStd, loss } = state;
    // Checked whole before a model of the architecture it claims is allocated (a small file cannot make the
    // engine build a huge model, and a refused state leaves nothing on the GPU).
    checkModelState(state, source);
    const model = new Model(device, { inputs, layers, seed, input, loss, ...(input === 'u8' && { pixelMean, pixelStd }), ...options });
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
   *
   * @example
   * ```ts
   * const bytes = await model.toSafetensors({ full: true });        // a checkpoint that resumes bit for bit
   * const copy = Model.fromSafetensors(device, bytes);
   * // In Node: await saveModelFile(model, 'model.safetensors'); openModelFile(device, 'model.safetensors').model
   * ```
   */
  static fromSafetensors(
    device: GPUDevice, source: Uint8Array | SafetensorsFile, name = 'model.safetensors', options: Pick<ModelOptions, 'variants' | 'evaluationBatch' | 'precision'> = {},
  ): Model {
    return Model.fromState(device, decodeModelState(source, name), name, options);
  }

  /**
   * A model from wherever it is, in one call: a URL, the file's bytes, `{ indexedDB: name }` or, in Node with
   * `webgpu-mlp/node`, a file path (see ModelSource). A file that cannot be had (HTTP 404, no such file, no
   * model of that name) is a BadInputError naming it.
   *
   * @example
   * ```ts
   * const model = await Model.load(device, 'https://example.com/mnist.safetensors');
   * const same = await Model.load(device, await model.toSafetensors());
   * ```
   */
  static async load(device: GPUDevice, source: ModelSource, options: LoadOptions = {}): Promise<Model> {
    // Loaded on first use: the readers (fetch, IndexedDB) stay out of a page that never calls this.
    const { readModelSource } = await import('../data/modelSource.js');
    const { signal, ...modelOptions } = options;
    const { bytes, name } = await readModelSource(source, signal);
    return Model.fromSafetensors(device, bytes, name, modelOptions);
  }

  /**
   * The model as safetensors bytes (PyTorch-loadable weights; `{ full: true }` adds what resuming needs).
   *
   * @example
   * ```ts
   * const weights = await model.toSafetensors();                    // PyTorch: load_state_dict(load_file(path))
   * await saveModelToIndexedDB(model, 'mnist');                     // or in a page, by name
   * ```
   */
  async toSafetensors(options: SaveOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
    return encodeModelState(await this.exportState(options), options.metadata);
  }

  /**
   * The model as ONNX bytes (src/export/onnx.ts) for ONNX Runtime and other inference engines: it takes the
   * u8 pixels (or f32 features) that predict takes, normalizes them itself, and gives what predict gives:
   * probabilities after a Softmax ('cross-entropy'), per-label probabilities after a Sigmoid ('bce'), or the
   * values ('mse'); `{ softmax: false }` leaves the last Softmax or Sigmoid out (logits). Any batch size.
   *
   * @example
   * ```ts
   * import * as ort from 'onnxruntime-node';
   * const session = await ort.InferenceSession.create(await model.toOnnx());
   * const { probabilities } = await session.run({ pixels: new ort.Tensor('uint8', pixels, [count, 784]) });
   * ```
   */
  async toOnnx(options: OnnxOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
    // Loaded on first use: a page that never exports does not download the ONNX encoder.
    const { encodeOnnx } = await import('../export/onnx.js');
    return encodeOnnx(await this.exportState(), options);
  }

  /**
   * Loads another model's trained tensors into this one by name and shape, as PyTorch's
   * `load_state_dict(source, strict=False)` does with `{ strict: false }`: each of this model's tensors
   * ("0.weight", batch norm's "4.running_mean" with its layer, …) takes the source's tensor of the same name when
   * PyTorch's shapes agree; the rest stay as they are. Strict (the default), anything missing, extra or of
   * another shape is a BadInputError naming the tensor and both shapes. Every value is checked before anything
   * is written. The optimizer starts fresh (moments and step count), as after importState.
   * @param source A model, a state (exportState, decodeModelState) or safetensors bytes (a checkpoint, a PyTorch state dict).
   * @returns What was loaded, what the source had that was not taken (and why), and what it lacked.
   * @example
   * ```ts
   * const report = await head.loadWeights(base, { strict: false });
   * // { loaded: ['0.weight', '0.bias', …], skipped: [{ name: '7.weight', reason: 'shape [5, 256] in source, [32, 256] here' }], missing: ['9.weight', '9.bias'] }
   * ```
   */
  async loadWeights(source: Model | { tensors: Map<string, Tensor> } | Uint8Array, options: LoadWeightsOptions = {}): Promise<LoadReport> {
    this.checkUsable('loadWeights');
    const name = options.source ?? (source instanceof Uint8Array ? 'model.safetensors' : 'source');
    const tensors = source instanceof Model ? (await source.exportState()).tensors
      : source instanceof Uint8Array ? decodeSafetensors(source, name).tensors : source?.tensors;
    if (!(tensors instanceof Map)) throw new BadInputError('loadWeights: the source must be a Model, a state with its tensors (exportState) or safetensors bytes', { value: source });
    this.checkUsable('loadWeights');
    const { report, writes } = matchWeights(tensors, this.architecture, { params: this.parameters.layout, state: this.parameters.stateLayout }, { ...options, source: name });
    for (const w of writes) this.device.queue.writeBuffer(w.into === 'params' ? this.parameters.params : this.parameters.state, w.offset * 4, w.data);
    // Moments of other weights mean nothing for these: the next fit starts the optimizer fresh.
    this.resetOptimizer();
    // Weights a diverged fit left are usable again once every one of them is replaced.
    if (this.parameters.layout.tensors.every((t) => report.loaded.includes(t.name))) this.diverged = false;
    return report;
  }

  /**
   * The model as a Keras-style table: each layer's index, written form, output shape, parameter count and
   * whether training updates it (trainable or frozen), then the totals. summaryData() gives the same as data.
   * @example
   * ```ts
   * console.log(model.summary());
   * ```
   */
  summary(): string {
    return formatSummary(this.summaryData());
  }

  /** The summary's contents as data: one entry per layer and the parameter totals (total, trainable, frozen). */
  summaryData(): ModelSummary {
    return summarize(this.architecture);
  }

  /** The flat parameters (layout: this.parameters.layout). */
  async getParams(): Promise<Float32Array> {
    this.checkUsable('getParams');
    return this.parameters.download();
  }

  /** Replaces the flat parameters (getParams' layout and length); every value must be finite. */
  setParams(flat: Float32Array): void {
    this.checkUsable('setParams');
    const bad = flat.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new BadInputError(`setParams: value ${bad} is ${flat[bad]}, not a finite number`, { value: flat[bad] });
    this.parameters.upload(flat);
    this.diverged = false;
  }

  /** The max-norm constraint on every trainable linear layer's weight (a frozen one stays as it is), built once per value. */
  private maxNormDispatches(c: number): Dispatch[] {
    let dispatches = this.constraints.get(c);
    if (!dispatches) {
      const { layout, params } = this.parameters;
      dispatches = this.architecture.layers
        .filter((l) => l.spec.kind === 'linear' && l.trainable)
        .map((l) => this.ops.maxNorm(sliceOf(params, slotOf(layout, `${l.index}.weight`)), l.inputs, l.outputs, c));
      this.constraints.set(c, dispatches);
    }
    return dispatches;
  }

  /** The training set in GPU memory (as quads of `quads`, for augmentation), uploaded on first use and kept while fit is given the same one. */
  private residentData(train: AnyDataset, quads?: ImageSize): ResidentDataset {
    if (!this.resident?.holds(train, quads)) {
      this.resident?.destroy();
      this.resident = new ResidentDataset(this.device, train, quads);
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

  /** Refuses work on the weights a diverged fit left (a later fit, setParams or importState replaces them). */
  private checkWeightsUsable(call: string): void {
    this.checkUsable(call);
    this.throwIfLost();
    if (this.diverged) {
      throw new MisuseError(`${call}: the last fit diverged, so the weights are not finite or meaningful; set new ones (setParams, importState, a checkpoint) or fit again`);
    }
  }

  /**
   * Resolves when every kernel compiling in the background has compiled. On a software adapter a big product
   * first runs as a smaller-tiled twin that compiles in a tenth of the time and computes the same bits, while
   * its full kernel compiles behind it; results do not depend on when the switch comes. Benchmarks await this
   * so that they time the full kernels.
   */
  async kernelsReady(): Promise<void> {
    await this.ops.cache.settled();
  }

  /**
   * Frees the model's GPU buffers (weights, optimizer state, plans, a resident training set); later calls (fit,
   * evaluate, predict, …) throw MisuseError, a second dispose does nothing. Refused while a fit runs: stop it first.
   */
  dispose(): void {
    if (this.disposed) return;
    // Its buffers are in the steps a running fit submits: stop that fit (signal, shouldStop) and await it first.
    if (this.fitting) throw new MisuseError('dispose: a fit of this model is still running; stop it (its signal) and await it first');
    // Destroying the buffers under a pending readback would reject it with an empty DOMException.
    if (this.pending > 0) throw new MisuseError(`dispose: ${this.pending} evaluate or predict call${this.pending > 1 ? 's' : ''} of this model ${this.pending > 1 ? 'are' : 'is'} still running; await ${this.pending > 1 ? 'them' : 'it'} first`);
    this.disposed = true;
    this.resident?.destroy();
    this.resident = undefined;
    for (const plan of this.plans.values()) plan.destroy();
    this.plans.clear();
    this.optimizer?.destroy();
    this.parameters.destroy();
  }
}
