// GPU ops: each builds a ready Dispatch for one kernel on fixed buffers and sizes. Names and argument order
// match the WGSL entry points and the CPU reference in src/reference/ops.ts (outputs first, then inputs, sizes).
import { RunFailure } from '../errors.js';
import {
  GATHER_BATCH_BINDINGS, GATHER_LABELS_BINDINGS, GATHER_TARGETS_BINDINGS, gatherBatchShader, gatherInvocations, gatherLabelsShader, gatherTargetsShader,
  type GatherInput,
} from '../../shaders/gatherBatch.js';
import { SIGMOID_PROBABILITIES, targetLossBindings, targetLossShader, type TargetLoss } from '../../shaders/targetLosses.js';
import {
  BIAS_GRAD_BINDINGS, biasGradInvocations, biasGradShader, biasGradUnsupported, biasGradVariantName, type BiasGradVariant,
} from '../../shaders/biasGrad.js';
import {
  MATMUL_ENTRY, matmulBindings, matmulExceedsDevice, matmulShader, matmulTiles, matmulVariantName, rowsFromC,
  type MatmulEpilogue, type MatmulForm, type MatmulVariant,
} from '../../shaders/matmul.js';
import {
  ADAM_BINDINGS, SGD_BINDINGS, adamUpdateShader, optimizerInvocations, optimizerUnsupported, sgdUpdateShader, type OptimizerVariant,
} from '../../shaders/optimizer.js';
import {
  SOFTMAX_BINDINGS, softmaxCrossEntropyBindings, softmaxCrossEntropyShader, softmaxInvocations, softmaxShader, type SoftmaxVariant,
} from '../../shaders/softmaxCrossEntropy.js';
import { MAX_NORM_BINDINGS, maxNormShader } from '../../shaders/maxNorm.js';
import {
  ELEMENTWISE_BACKWARD_BINDINGS, ELEMENTWISE_FORWARD_BINDINGS, backwardReads, elementwiseBackwardShader, elementwiseEntry, elementwiseForwardShader, type ElementwiseOp,
} from '../../shaders/elementwise.js';
import { makeDispatch, type BufferSlice, type Dispatch, type PipelineCache } from './dispatch.js';
import { chooseFirst, chooseMatmul, DEFAULT_VARIANTS, quickMatmulTwin, type VariantChoices } from './variants.js';

/** Workgroup size of the simple elementwise kernels (activations, maxNorm, dropout, convolution columns, pooling). */
export const ELEMENTWISE_WORKGROUP = 64;

/**
 * An activation run inside another kernel (the plan's fusion pass): its op, and where a kernel applying its
 * backward reads its input x and output y (those of the two its backward reads, elementwise.ts backwardReads).
 */
export interface FusedActivation {
  /** The activation's elementwise op. */
  op: ElementwiseOp;
  /** Its input, [rows × values]. */
  x?: BufferSlice;
  /** Its output, [rows × values]. */
  y?: BufferSlice;
}

/** The buffers of a fused activation's backward by binding name (elementwise.ts activationGradBindings). */
export function activationBuffers(a: FusedActivation | undefined): Record<string, BufferSlice> {
  if (!a) return {};
  const reads = backwardReads(a.op);
  const need = (slice: BufferSlice | undefined, what: string) => {
    if (!slice) throw new Error(`${a.op.name}'s backward reads its ${what}, which was not given`);
    return slice;
  };
  return { ...(reads.x ? { activationInput: need(a.x, 'input') } : {}), ...(reads.y ? { activationOutput: need(a.y, 'output') } : {}) };
}

/** A product's options for + bias[N], then the fused activation's forward when there is one. */
export const biasEpilogue = (bias: BufferSlice, activation?: ElementwiseOp): MatmulOptions =>
  (activation ? { epilogue: 'biasActivation', extra: bias, activation: { op: activation } } : { epilogue: 'bias', extra: bias });

/** A product's options for the fused activation's backward on what it computes, when there is one. */
export const activationBackwardEpilogue = (activation?: FusedActivation): MatmulOptions =>
  (activation ? { epilogue: 'activationBackward', activation } : {});

/** What a kernel's label adds for a fused activation's backward: ' +backward+relu', or nothing. */
export const fusedLabel = (activation?: FusedActivation): string => (activation ? ` +${epilogueName('activationBackward', activation.op)}` : '');

/** A fused epilogue's name in labels, as the shaders CLI's --epilogue takes it: 'bias', 'bias+relu', 'backward+relu'. */
export function epilogueName(epilogue: MatmulEpilogue, activation?: ElementwiseOp): string {
  if (epilogue === 'biasActivation') return `bias+${activation?.name}`;
  if (epilogue === 'activationBackward') return `backward+${activation?.name}`;
  return epilogue;
}

export interface MatmulOptions {
  /** Force a variant (benchmarks, tests); otherwise the first candidate that supports the shape. */
  variant?: MatmulVariant;
  epilogue?: MatmulEpilogue;
  /** bias[N] for bias / biasActivation. */
  extra?: BufferSlice;
  /** The activation of biasActivation and activationBackward, and for activationBackward its x and y [M×N] (those its backward reads). */
  activation?: FusedActivation;
  inputU8?: boolean;
  pixelScale?: number;
  pixelShift?: number;
}

export class Ops {
  constructor(
    readonly cache: PipelineCache,
    readonly choices: VariantChoices = DEFAULT_VARIANTS,
  ) {}

  matmul(form: MatmulForm, out: BufferSlice, a: BufferSlice, b: BufferSlice, M: number, N: number, K: number, o: MatmulOptions = {}): Dispatch {
    const shape = { M, N, K, epilogue: o.epilogue, activation: o.activation?.op, inputU8: o.inputU8, pixelScale: o.pixelScale, pixelShift: o.pixelShift };
    const variant = o.variant ?? chooseMatmul(this.choices, form, shape, this.cache.device.limits);
    const epilogue = o.epilogue ?? 'none';
    const label = `${MATMUL_ENTRY[form]} ${M}×${N}×${K} ${matmulVariantName(variant)}${epilogue === 'none' ? '' : ` +${epilogueName(epilogue, o.activation?.op)}`}`;
    const tooBig = matmulExceedsDevice(variant, this.cache.device.limits);
    if (tooBig) throw new RunFailure(`${label}: ${tooBig}`);
    const code = matmulShader(variant, shape);
    const backward = epilogue === 'activationBackward';
    if ((epilogue === 'bias' || epilogue === 'biasActivation') && !o.extra) throw new Error(`matmul epilogue ${epilogue} needs its bias buffer`);
    const extra: Record<string, BufferSlice> = backward ? activationBuffers(o.activation!) : epilogue === 'none' ? {} : { bias: o.extra! };
    // Bytes: each operand read once and C written once; u8 pixels are one byte each.
    const extraFloats = backward ? Object.keys(extra).length * M * N : epilogue === 'none' ? 0 : N;
    const cost = { flops: 2 * M * N * K, bytes: M * K * (o.inputU8 ? 1 : 4) + 4 * (N * K + M * N + extraFloats) };
    // nn and nt read M from C's bound length (shaders/matmulParts.ts rowsFromC): bind exactly M×N floats.
    const C = rowsFromC(variant) ? { ...out, size: M * N * 4 } : out;
    const buffers = { A: a, B: b, C, ...extra };
    // A variant asked for by name (benchmarks, the autotuner) runs as it is; a chosen one may start on its quick twin.
    const twin = o.variant ? null : quickMatmulTwin(variant, shape);
    const quick = twin ? { code: matmulShader(twin, shape), invocations: matmulTiles(twin, shape) } : undefined;
    return makeDispatch(this.cache, label, code, MATMUL_ENTRY[form], matmulBindings(shape), buffers, matmulTiles(variant, shape), variant.workgroupSize, cost, quick);
  }

  /** out[M×N] = a[M×K] · b[K×N] */
  matmulNN(out: BufferSlice, a: BufferSlice, b: BufferSlice, M: number, N: number, K: number, o?: MatmulOptions): Dispatch {
    return this.matmul('nn', out, a, b, M, N, K, o);
  }

  /** out[M×N] = a[M×K] · b[N×K]ᵀ */
  matmulNT(out: BufferSlice, a: BufferSlice, b: BufferSlice, M: number, N: number, K: number, o?: MatmulOptions): Dispatch {
    return this.matmul('nt', out, a, b, M, N, K, o);
  }

  /** out[M×N] = a[K×M]ᵀ · b[K×N] */
  matmulTN(out: BufferSlice, a: BufferSlice, b: BufferSlice, M: number, N: number, K: number, o?: MatmulOptions): Dispatch {
    return this.matmul('tn', out, a, b, M, N, K, o);
  }

  /** dBias[N] = Σ_m dY[M×N] */
  biasGrad(dBias: BufferSlice, dY: BufferSlice, M: number, N: number, variant?: BiasGradVariant): Dispatch {
    const v = variant ?? chooseFirst(this.choices.biasGrad, (c) => biasGradUnsupported(c, M, N) === null, `biasGrad N=${N}`);
    const code = biasGradShader(v, M, N);
    const cost = { flops: M * N, bytes: 4 * (M * N + N) };
    return makeDispatch(this.cache, `biasGrad ${M}×${N} ${biasGradVariantName(v)}`, code, 'biasGrad', BIAS_GRAD_BINDINGS, { dY, dBias }, biasGradInvocations(v, N), v.workgroupSize, cost);
  }

  /**
   * Loss, accuracy counts and (with dLogits) the gradient for rows×classes logits; `batch` is the uniform
   * block { rows, 1/rows } of the rows actually present, `stats` the per-row (loss, correct) accumulators.
   */
  softmaxCrossEntropy(
    dLogits: BufferSlice | null, stats: BufferSlice, logits: BufferSlice, labels: BufferSlice, batch: BufferSlice,
    capacityRows: number, classes: number, variant?: Omit<SoftmaxVariant, 'gradient'>,
  ): Dispatch {
    const v = { ...this.choices.softmax, ...variant, gradient: dLogits !== null };
    const code = softmaxCrossEntropyShader(v, capacityRows, classes);
    const buffers = { logits, labels, stats, batch, ...(dLogits ? { dLogits } : {}) };
    const label = `softmaxCrossEntropy ${capacityRows}×${classes} per-${v.perRow ?? 'invocation'}-wg${v.workgroupSize}`;
    const cost = { flops: 5 * capacityRows * classes, bytes: 4 * (capacityRows * classes * (dLogits ? 2 : 1) + 3 * capacityRows) };
    return makeDispatch(this.cache, label, code, 'softmaxCrossEntropy', softmaxCrossEntropyBindings(v.gradient), buffers, softmaxInvocations(v, capacityRows), v.workgroupSize, cost);
  }

  /**
   * A loss against float targets (shaders/targetLosses.ts): meanSquaredError or sigmoidCrossEntropy over
   * rows×outputs logits and targets; with dLogits its gradient too. `batch` and `stats` as softmaxCrossEntropy's,
   * stats holding each row's (loss, metric).
   */
  targetLoss(
    loss: TargetLoss, dLogits: BufferSlice | null, stats: BufferSlice, logits: BufferSlice, targets: BufferSlice, batch: BufferSlice,
    capacityRows: number, outputs: number,
  ): Dispatch {
    const v = { workgroupSize: this.choices.softmax.workgroupSize, gradient: dLogits !== null };
    const code = targetLossShader(loss, v, capacityRows, outputs);
    const buffers = { logits, targets, stats, batch, ...(dLogits ? { dLogits } : {}) };
    const cost = { flops: 8 * capacityRows * outputs, bytes: 4 * (capacityRows * outputs * (dLogits ? 3 : 2) + 2 * capacityRows) };
    return makeDispatch(this.cache, `${loss} ${capacityRows}×${outputs} wg${v.workgroupSize}`, code, loss, targetLossBindings(v.gradient), buffers, capacityRows, v.workgroupSize, cost);
  }

  /** batchTargets[capacity×width] = target rows at order[start .. start+rows) (see shaders/gatherBatch.ts, gatherTargets) */
  gatherTargets(batchTargets: BufferSlice, targets: BufferSlice, order: BufferSlice, batch: BufferSlice, capacity: number, width: number): Dispatch {
    const wg = 64;
    const cost = { flops: 0, bytes: 8 * capacity * width + 4 * capacity };
    return makeDispatch(this.cache, `gatherTargets ${capacity}×${width}`, gatherTargetsShader(wg, capacity, width), 'gatherTargets', GATHER_TARGETS_BINDINGS,
      { targets, order, batchTargets, batch }, capacity * width, wg, cost);
  }

  /** probabilities[count] = σ(logits), per label: what a 'bce' model predicts */
  sigmoidProbabilities(probabilities: BufferSlice, logits: BufferSlice, count: number): Dispatch {
    return this.elementwiseForward(SIGMOID_PROBABILITIES, probabilities, logits, count);
  }

  /**
   * input[capacity×features], batchLabels[capacity] = images, labels at order[start .. start+rows); inputs u8
   * (packed four to a u32) or f32 (see shaders/gatherBatch.ts)
   */
  gatherBatch(
    input: BufferSlice, batchLabels: BufferSlice, images: BufferSlice, labels: BufferSlice, order: BufferSlice, batch: BufferSlice,
    capacity: number, features: number, kind: GatherInput = 'u8',
  ): Dispatch {
    const wg = 64;
    const code = gatherBatchShader(wg, capacity, features, kind);
    const cost = { flops: 0, bytes: 2 * (capacity * features * (kind === 'f32' ? 4 : 1) + 8 * capacity) };
    const buffers = { images, labels, order, input, batchLabels, batch };
    const label = `gatherBatch ${capacity}×${features}${kind === 'f32' ? ' f32' : ''}`;
    return makeDispatch(this.cache, label, code, 'gatherBatch', GATHER_BATCH_BINDINGS, buffers, gatherInvocations(capacity, features, kind), wg, cost);
  }

  /** batchLabels[capacity] = labels at order[start .. start+rows) (see shaders/gatherBatch.ts, gatherLabels) */
  gatherLabels(batchLabels: BufferSlice, labels: BufferSlice, order: BufferSlice, batch: BufferSlice, capacity: number): Dispatch {
    const wg = 64;
    const cost = { flops: 0, bytes: 12 * capacity };
    return makeDispatch(this.cache, `gatherLabels ${capacity}`, gatherLabelsShader(wg, capacity), 'gatherLabels', GATHER_LABELS_BINDINGS,
      { labels, order, batchLabels, batch }, capacity, wg, cost);
  }

  /** probabilities[rows×classes] = softmax(logits) */
  softmax(probabilities: BufferSlice, logits: BufferSlice, capacityRows: number, classes: number): Dispatch {
    const wg = this.choices.softmax.workgroupSize;
    const code = softmaxShader(wg, classes);
    const cost = { flops: 4 * capacityRows * classes, bytes: 8 * capacityRows * classes };
    // The kernel reads its rows from the bound length of probabilities: bind exactly capacityRows × classes.
    const bound = { ...probabilities, size: capacityRows * classes * 4 };
    return makeDispatch(this.cache, `softmax ${capacityRows}×${classes}`, code, 'softmax', SOFTMAX_BINDINGS, { logits, probabilities: bound }, capacityRows, wg, cost);
  }

  /** Compiles softmax for `classes` now (a few ms), so a predict after fit compiles nothing while fit's full products still compile in the background. */
  prepareSoftmax(classes: number): void {
    this.cache.get(softmaxShader(this.choices.softmax.workgroupSize, classes), 'softmax', SOFTMAX_BINDINGS);
  }

  private optimizerVariant(length: number, variant?: OptimizerVariant): OptimizerVariant {
    return variant ?? chooseFirst(this.choices.optimizer, (c) => optimizerUnsupported(c, length) === null, `optimizer length=${length}`);
  }

  /** One Adam/AdamW step over `length` parameters; `adam` is the uniform block (see shaders/optimizer.ts). */
  adamUpdate(params: BufferSlice, moment1: BufferSlice, moment2: BufferSlice, grads: BufferSlice, adam: BufferSlice, length: number, variant?: OptimizerVariant): Dispatch {
    const v = this.optimizerVariant(length, variant);
    const code = adamUpdateShader(v, length);
    const label = `adamUpdate ${length} ${v.vec4 ? 'vec4' : 'scalar'}`;
    // Reads gradient, parameter and both moments; writes the last three.
    const cost = { flops: 12 * length, bytes: 7 * 4 * length };
    const buffers = { grads, params, moment1, moment2, adam };
    return makeDispatch(this.cache, label, code, 'adamUpdate', ADAM_BINDINGS, buffers, optimizerInvocations(v, length), v.workgroupSize, cost);
  }

  /** One SGD step over `length` parameters; `sgd` is the uniform block (see shaders/optimizer.ts). */
  sgdUpdate(params: BufferSlice, velocity: BufferSlice, grads: BufferSlice, sgd: BufferSlice, length: number, variant?: OptimizerVariant): Dispatch {
    const v = this.optimizerVariant(length, variant);
    const code = sgdUpdateShader(v, length);
    const label = `sgdUpdate ${length} ${v.vec4 ? 'vec4' : 'scalar'}`;
    const cost = { flops: 5 * length, bytes: 5 * 4 * length };
    return makeDispatch(this.cache, label, code, 'sgdUpdate', SGD_BINDINGS, { grads, params, velocity, sgd }, optimizerInvocations(v, length), v.workgroupSize, cost);
  }

  /** output[count] = op(input), an activation from the elementwise template (shaders/elementwise.ts) */
  elementwiseForward(op: ElementwiseOp, output: BufferSlice, input: BufferSlice, count: number): Dispatch {
    const wg = ELEMENTWISE_WORKGROUP;
    const entry = elementwiseEntry(op, 'forward');
    return makeDispatch(this.cache, `${entry} ${count}`, elementwiseForwardShader(op, wg, count), entry, ELEMENTWISE_FORWARD_BINDINGS, { input, output }, count, wg, { flops: count, bytes: 8 * count });
  }

  /** dInput[count] = op's backward of (dOutput, input, output) */
  elementwiseBackward(op: ElementwiseOp, dInput: BufferSlice, dOutput: BufferSlice, input: BufferSlice, output: BufferSlice, count: number): Dispatch {
    const wg = ELEMENTWISE_WORKGROUP;
    const entry = elementwiseEntry(op, 'backward');
    const buffers = { dOutput, input, output, dInput };
    return makeDispatch(this.cache, `${entry} ${count}`, elementwiseBackwardShader(op, wg, count), entry, ELEMENTWISE_BACKWARD_BINDINGS, buffers, count, wg, { flops: 2 * count, bytes: 16 * count });
  }

  /** Each column of weight[inputs×outputs] scaled to L2 norm ≤ c (see shaders/maxNorm.ts) */
  maxNorm(weight: BufferSlice, inputs: number, outputs: number, c: number): Dispatch {
    const wg = ELEMENTWISE_WORKGROUP;
    const cost = { flops: 3 * inputs * outputs, bytes: 8 * inputs * outputs };
    return makeDispatch(this.cache, `maxNorm ${inputs}×${outputs} c=${c}`, maxNormShader(wg, inputs, outputs, c), 'maxNorm', MAX_NORM_BINDINGS, { weight }, outputs, wg, cost);
  }
}
