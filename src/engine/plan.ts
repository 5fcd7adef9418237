// A model compiled for a batch capacity: every buffer, pipeline and bind group a step needs, made once.
// A step only uploads its batch and encodes these dispatches.
//
// The plan walks the stages of the model's layers (fusion.ts decides which activations run inside their neighbours;
// layers that are the identity in this mode are left out): each stage gets an output buffer h[B×out] (unless
// its forward is fused) and, for training, its gradient dh (unless its backward is fused), and contributes
// its dispatches:
//   forward   in layer order
//   loss      softmaxCrossEntropy(dh[last], stats, h[last], labels), or for float targets (loss.ts)
//             meanSquaredError / sigmoidCrossEntropy(dh[last], stats, h[last], targets)
//   backward  in reverse order; a frozen layer (trainable: false) makes no parameter gradients, and the
//             layers before the first trainable linear or conv2d run no backward at all
// A training plan with augmentation first distorts the batch (src/augment/) into a buffer the first layer reads:
// from the uploaded batch (batchInput), or from a data set kept in GPU memory, gathering and distorting in one
// pass (gatherFrom).
// The input x[B×inputs] is raw u8 pixels, packed four to a u32, which the first layer reads as x/255 (then
// scaled and shifted), or f32 features, which it reads as they are (InputEncoding).
// Rows past the batch's real size (a short last batch) get zero loss gradient, so they add nothing.
// A predict plan ends in what the loss makes of the outputs: softmax, a sigmoid per label, or the values as they are.
import { BATCH_UNIFORM_BYTES, packBatchUniform, type BatchFields } from '../../shaders/batchUniform.js';
import { UniformWords } from '../../shaders/bindings.js';
import { storageBuffer, trackedBuffer, uniformBuffer } from '../gpu/buffers.js';
import type { BufferSlice, Dispatch } from '../gpu/dispatch.js';
import type { MlpParameters } from './mlp.js';
import type { FusedActivation, Ops } from '../gpu/ops.js';
import type { ResidentDataset } from './residentData.js';
import { inputBufferBytes, type InputKind } from '../data/dataset.js';
import { BadInputError } from '../errors.js';
import { sliceOf, slotOf } from './paramLayout.js';
import type { LayerSpec } from '../layers/index.js';
import type { LayerBuffers } from '../layers/layer.js';
import type { PlacedLayer } from '../layers/architecture.js';
import { planStages } from './fusion.js';
import { augmentKernels } from '../augment/kernels.js';
import type { Augmentation, ImageSize } from '../augment/spec.js';
import { TARGET_LOSS_OP, takesTargets, type LossKind } from '../data/loss.js';


const whole = (buffer: GPUBuffer): BufferSlice => ({ buffer });

export type PlanMode = 'train' | 'evaluate' | 'predict';

export interface PixelNormalization {
  pixelScale: number;
  pixelShift: number;
}

/** What the plan's input holds and how the first layer reads it. */
export type InputEncoding = ({ kind: 'u8' } & PixelNormalization) | { kind: 'f32' };

/**
 * A model's input encoding from its options: u8 pixels read as (x/255 − pixelMean) / pixelStd, or f32 features
 * read as they are. Pixel normalization is for u8 only: f32 features come standardized as the caller wants them,
 * so pixelMean/pixelStd with input 'f32' are an error rather than silently ignored.
 */
export function inputEncodingOf(options: { input?: InputKind; pixelMean?: number; pixelStd?: number }): InputEncoding {
  const kind = options.input ?? 'u8';
  if (kind !== 'u8' && kind !== 'f32') throw new BadInputError(`input must be 'u8' or 'f32', got '${String(kind)}'`, { value: kind });
  if (kind === 'f32') {
    if (options.pixelMean !== undefined || options.pixelStd !== undefined) {
      throw new BadInputError('pixelMean and pixelStd are for u8 pixels; standardize f32 features before training (standardizeFeatures)', { value: options.pixelMean ?? options.pixelStd });
    }
    return { kind };
  }
  const std = options.pixelStd ?? 1;
  const mean = options.pixelMean ?? 0;
  if (!(std > 0)) throw new BadInputError(`pixelStd must be positive, got ${std}`, { value: std });
  // Both become f32 constants in the first layer's kernel.
  if (!Number.isFinite(Math.fround(1 / std)) || !Number.isFinite(Math.fround(mean / std))) {
    throw new BadInputError(`pixelStd ${std} is too small (1/std or mean/std overflows f32)`, { value: std });
  }
  return { kind, pixelScale: 1 / std, pixelShift: -mean / std };
}

/**
 * Where a training step's backward starts (the layers before it run none): the first layer with trainable
 * parameters when it can take a null input gradient as a model's first layer does (linear, conv2d), so that
 * nothing is made for a frozen stem that no trainable layer needs; 0 otherwise, and when nothing is frozen.
 */
function firstLayerWithBackward(layers: readonly PlacedLayer[]): number {
  const first = layers.find((l) => l.trainable && l.parameters.length > 0);
  return first?.module.readsModelInput ? first.index : 0;
}

export interface PlanOptions {
  /** Off: every layer runs its own kernels (fusion.ts), for checking the fused plan against. Default on. */
  fuse?: boolean;
  /** Training plans: distort each batch's images before the first layer reads them (src/augment/). */
  augment?: { augmentation: Augmentation; image: ImageSize };
  /** The loss stage's kernel, and what a predict plan ends in (loss.ts). Default 'cross-entropy'. */
  loss?: LossKind;
}

export class ModelPlan {
  readonly input: GPUBuffer;
  readonly labels: GPUBuffer;
  /** The batch's float targets [capacity × outputs], for the 'mse' and 'bce' losses. */
  readonly targets?: GPUBuffer;
  readonly lossKind: LossKind;
  readonly batch: GPUBuffer;
  /** Per-row (loss sum, correct count) accumulators, vec2f each. */
  readonly stats: GPUBuffer;
  /** Where stats (and predictions) are copied for reading on the host. */
  readonly statsStaging: GPUBuffer;
  readonly probabilities?: GPUBuffer;
  readonly probabilitiesStaging?: GPUBuffer;

  /**
   * Training plans that augment: the image size their distortion takes, and the layout a data set kept in GPU
   * memory must have for gatherFrom (ResidentDataset's quads).
   */
  readonly augmentImage?: ImageSize;
  readonly forward: Dispatch[] = [];
  readonly loss: Dispatch[] = [];
  readonly backward: Dispatch[] = [];

  /** Bytes of a full batch's input: u8 pixels packed four to a u32, or f32 features. */
  readonly inputBytes: number;
  /** Where the Batch uniform is packed (reused from step to step). */
  readonly batchWords = new UniformWords(BATCH_UNIFORM_BYTES);

  constructor(
    readonly model: MlpParameters,
    readonly ops: Ops,
    readonly capacity: number,
    readonly mode: PlanMode,
    readonly inputEncoding: InputEncoding,
    options: PlanOptions = {},
  ) {
    // A buffer over a device limit (DeviceLimitError) part way through must not leave the ones before it:
    // the refused plan never reaches the model's list, so nothing else would free them.
    try {
      const { fuse = true, augment, loss = 'cross-entropy' } = options;
      this.lossKind = loss;
      const { device, architecture, layout } = model;
      const { inputs, classes } = architecture;
      const B = capacity;
      const training = mode === 'train';
      const u8 = inputEncoding.kind === 'u8';
      this.inputBytes = inputBufferBytes(inputEncoding.kind, B * inputs);
      this.input = this.own(storageBuffer(device, this.inputBytes, `input ${inputEncoding.kind}`));
      this.labels = this.own(storageBuffer(device, B * 4, 'labels'));
      if (takesTargets(loss) && mode !== 'predict') this.targets = this.own(storageBuffer(device, B * classes * 4, 'targets'));
      this.batch = this.own(uniformBuffer(device, BATCH_UNIFORM_BYTES, 'batch'));
      this.stats = this.own(storageBuffer(device, B * 8, 'stats'));
      this.statsStaging = this.own(trackedBuffer(device, { size: this.stats.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'stats staging' }));

      // What flows between stages: the current activation, its gradient, and the activation (with its x and y)
      // whose backward the next stage's input gradient takes.
      const pixels = u8 ? { pixelScale: inputEncoding.pixelScale, pixelShift: inputEncoding.pixelShift } : undefined;
      let flow: { act: BufferSlice; grad: BufferSlice | null; activation?: FusedActivation; pixels?: PixelNormalization } = { act: whole(this.input), grad: null, pixels };
      if (augment && training) {
        // The first layer reads the distorted batch: as bytes, like undistorted pixels, when rows fill whole words;
        // otherwise as f32 already normalized.
        if (!pixels) throw new BadInputError('augment distorts u8 image pixels; this model takes f32 features', { value: 'f32' });
        const { augmentDispatches, elasticFieldBytes } = augmentKernels();
        const bytes = inputs % 4 === 0;
        const augmented = whole(this.buffer(bytes ? (B * inputs) / 4 : B * inputs, 'augmented input'));
        const fieldFloats = elasticFieldBytes(B, augment.image) / 4;
        const elastic = augment.augmentation.elastic
          ? { blurred: whole(this.buffer(fieldFloats, 'elastic blurred noise')), displacement: whole(this.buffer(fieldFloats, 'elastic displacement')) }
          : undefined;
        this.augmentImage = augment.image;
        this.augmentFrom = (source) => augmentDispatches(ops.cache, { ...source, output: augmented, batch: whole(this.batch), elastic }, B, augment.image,
          augment.augmentation, pixels, bytes ? 'u8' : 'f32', ops.choices.augment?.workgroupSize);
        flow = bytes ? { act: augmented, grad: null, pixels } : { act: augmented, grad: null };
      }
      const backward: Dispatch[][] = [];
      const firstBackward = firstLayerWithBackward(architecture.layers);
      for (const stage of planStages(architecture.layers, training, fuse)) {
        const { layer } = stage;
        const output = stage.forwardFused ? flow.act : whole(this.buffer(B * layer.outputs, `h${layer.index}`));
        const hasBackward = training && layer.index >= firstBackward;
        const dOutput = hasBackward && !stage.backwardFused ? whole(this.buffer(B * layer.outputs, `dh${layer.index}`)) : null;
        const scratch = new Map<string, BufferSlice>();
        const buffers: LayerBuffers<LayerSpec> = {
          spec: layer.spec, place: layer, ops, rows: B,
          input: flow.act, pixels: flow.pixels, output,
          dInput: flow.grad, dOutput: dOutput ?? output,
          epilogue: stage.epilogue, inputGradActivation: stage.inputGradActivation ? flow.activation : undefined,
          param: (role) => sliceOf(model.params, slotOf(layout, `${layer.index}.${role}`)),
          grad: (role) => sliceOf(model.grads, slotOf(layout, `${layer.index}.${role}`)),
          frozen: !layer.trainable,
          state: (role) => sliceOf(model.state, slotOf(model.stateLayout, `${layer.index}.${role}`)),
          training,
          scratch: (name, floats) => {
            if (!scratch.has(name)) scratch.set(name, whole(this.buffer(floats, `${layer.index}.${name}`)));
            return scratch.get(name)!;
          },
          batch: whole(this.batch),
        };
        if (!stage.forwardFused) this.forward.push(...layer.module.forward(buffers));
        if (hasBackward && !stage.backwardFused) backward.push(layer.module.backward(buffers));
        const op = stage.backwardFused ? layer.module.elementwise?.(layer.spec) : undefined;
        flow = op ? { act: output, grad: flow.grad, activation: { op, x: flow.act, y: output } } : { act: output, grad: dOutput };
      }

      const logits = flow.act;
      if (mode === 'predict') {
        // 'mse' predicts the values themselves: the last layer's output (a whole buffer of its own, the last
        // layer being a linear one), read back as it is.
        this.probabilities = loss === 'mse' ? logits.buffer : this.own(storageBuffer(device, B * classes * 4, 'probabilities'));
        this.probabilitiesStaging = this.own(trackedBuffer(device, { size: this.probabilities.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'probabilities staging' }));
        if (loss === 'cross-entropy') this.forward.push(ops.softmax(whole(this.probabilities), logits, B, classes));
        else if (loss === 'bce') this.forward.push(ops.sigmoidProbabilities(whole(this.probabilities), logits, B * classes));
        // 'mse' adds no kernel: predict reads the values straight from the last layer's output.
        return;
      }
      if (takesTargets(loss)) {
        this.loss.push(ops.targetLoss(TARGET_LOSS_OP[loss], flow.grad, whole(this.stats), logits, whole(this.targets!), whole(this.batch), B, classes));
      } else {
        this.loss.push(ops.softmaxCrossEntropy(flow.grad, whole(this.stats), logits, whole(this.labels), whole(this.batch), B, classes));
        // predict's one kernel of its own, compiled with the step's: compiled later, it waited for the full
        // products compiling in the background (430 ms on SwiftShader).
        if (training) ops.prepareSoftmax(classes);
      }
      if (training) for (const dispatches of backward.reverse()) this.backward.push(...dispatches);
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /** The augmentation dispatches reading `input` (with `order`: a data set's quads), when the plan augments. */
  private readonly augmentFrom?: (source: { input: BufferSlice; order?: BufferSlice }) => Dispatch[];
  private builtBatchInput?: Dispatch[];

  /**
   * What makes the first layer's input from the uploaded batch (plan.input): augmentation, or nothing. Built on
   * first use: a fit that gathers from GPU memory (gatherFrom) never compiles it.
   */
  get batchInput(): Dispatch[] {
    this.builtBatchInput ??= this.augmentFrom?.({ input: whole(this.input) }) ?? [];
    return this.builtBatchInput;
  }

  /** An activation, its gradient or a layer's scratch: [capacity × …] f32. */
  private buffer(floats: number, label: string): GPUBuffer {
    return this.own(storageBuffer(this.model.device, floats * 4, label));
  }

  /** Every buffer the plan made, in order: what destroy() frees, built or refused. */
  private readonly made: GPUBuffer[] = [];

  private own(buffer: GPUBuffer): GPUBuffer {
    this.made.push(buffer);
    return buffer;
  }

  /** Queues the Batch uniform: the rows actually present in this batch (≤ capacity), where it starts, its step. */
  writeBatch(fields: BatchFields): void {
    this.model.device.queue.writeBuffer(this.batch, 0, packBatchUniform(this.batchWords, fields));
  }


  /**
   * What makes each training batch from a data set kept in GPU memory, in place of batchInput: gatherBatch
   * (shaders/gatherBatch.ts), or with augmentation gatherLabels and the distortion reading the data set's quads.
   */
  gatherFrom(data: ResidentDataset): Dispatch[] {
    if (data.kind !== this.inputEncoding.kind) throw new Error(`gatherBatch: ${data.data.name} holds ${data.kind} inputs, the plan takes ${this.inputEncoding.kind}`);
    if (data.quads?.join() !== this.augmentImage?.join()) {
      throw new Error(`gatherFrom: ${data.data.name} is kept ${data.quads ? `as quads of ${data.quads.join('×')}` : 'as rows'}, the plan reads ${this.augmentImage ? `quads of ${this.augmentImage.join('×')}` : 'rows'}`);
    }
    const targets = this.targets ? [this.gatherTargets(data)] : [];
    if (this.augmentFrom) {
      return [
        ...targets,
        this.ops.gatherLabels(whole(this.labels), whole(data.labels), whole(data.order), whole(this.batch), this.capacity),
        ...this.augmentFrom({ input: whole(data.images), order: whole(data.order) }),
      ];
    }
    return [this.ops.gatherBatch(
      whole(this.input), whole(this.labels), whole(data.images), whole(data.labels), whole(data.order), whole(this.batch), this.capacity, this.model.architecture.inputs,
      this.inputEncoding.kind,
    ), ...targets];
  }

  private gatherTargets(data: ResidentDataset): Dispatch {
    if (!data.targets) throw new Error(`gatherTargets: ${data.data.name} is kept without targets, the plan's loss '${this.lossKind}' needs them`);
    return this.ops.gatherTargets(whole(this.targets!), whole(data.targets), whole(data.order), whole(this.batch), this.capacity, this.model.architecture.classes);
  }

  destroy(): void {
    for (const b of this.made) b.destroy();
  }
}
