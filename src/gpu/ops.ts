// GPU ops: each builds a ready Dispatch for one kernel on fixed buffers and sizes. Names and argument order
// match the WGSL entry points and the CPU reference in src/reference/ops.ts (outputs first, then inputs, sizes).
import { RunFailure } from '../errors.js';
import type { GatherInput } from '../../shaders/gatherBatch.js';
import { SIGMOID_PROBABILITIES, type TargetLoss } from '../../shaders/targetLosses.js';
import { biasGradUnsupported, type BiasGradVariant } from '../../shaders/biasGrad.js';
import { matmulExceedsDevice, rowsFromC, type MatmulEpilogue, type MatmulForm, type MatmulVariant } from '../../shaders/matmul.js';
import { optimizerUnsupported, type OptimizerVariant } from '../../shaders/optimizer.js';
import type { SoftmaxVariant } from '../../shaders/softmaxCrossEntropy.js';
import { backwardReads, type ElementwiseOp } from '../../shaders/elementwise.js';
import { dispatch, type BufferSlice, type Dispatch, type PipelineCache } from './dispatch.js';
import { epilogueName, kernels, matmulLabel } from './kernels.js';
import { chooseFirst, chooseMatmul, DEFAULT_VARIANTS, type VariantChoices } from './variants.js';

export { ELEMENTWISE_WORKGROUP } from './kernels.js';

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
export const fusedLabel = (activation?: ElementwiseOp): string => (activation ? ` +${epilogueName('activationBackward', activation)}` : '');

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
    const tooBig = matmulExceedsDevice(variant, this.cache.device.limits);
    if (tooBig) throw new RunFailure(`${matmulLabel(form, variant, shape)}: ${tooBig}`);
    // A variant asked for by name (benchmarks, the autotuner) runs as it is; a chosen one may start on its quick twin.
    const kernel = kernels.matmul(form, variant, shape, !o.variant && this.choices.quickTwins !== false);
    if ((epilogue === 'bias' || epilogue === 'biasActivation') && !o.extra) throw new Error(`matmul epilogue ${epilogue} needs its bias buffer`);
    const extra: Record<string, BufferSlice> = epilogue === 'activationBackward' ? activationBuffers(o.activation) : epilogue === 'none' ? {} : { bias: o.extra! };
    // nn and nt read M from C's bound length (shaders/matmulParts.ts rowsFromC): bind exactly M×N floats.
    const C = rowsFromC(variant) ? { ...out, size: M * N * 4 } : out;
    return dispatch(this.cache, kernel, { A: a, B: b, C, ...extra });
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
    return dispatch(this.cache, kernels.biasGrad(v, M, N), { dY, dBias });
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
    const buffers = { logits, labels, stats, batch, ...(dLogits ? { dLogits } : {}) };
    return dispatch(this.cache, kernels.softmaxCrossEntropy(v, capacityRows, classes), buffers);
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
    const buffers = { logits, targets, stats, batch, ...(dLogits ? { dLogits } : {}) };
    return dispatch(this.cache, kernels.targetLoss(loss, v, capacityRows, outputs), buffers);
  }

  /** batchTargets[capacity×width] = target rows at order[start .. start+rows) (see shaders/gatherBatch.ts, gatherTargets) */
  gatherTargets(batchTargets: BufferSlice, targets: BufferSlice, order: BufferSlice, batch: BufferSlice, capacity: number, width: number): Dispatch {
    return dispatch(this.cache, kernels.gatherTargets(capacity, width), { targets, order, batchTargets, batch });
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
    return dispatch(this.cache, kernels.gatherBatch(capacity, features, kind), { images, labels, order, input, batchLabels, batch });
  }

  /** batchLabels[capacity] = labels at order[start .. start+rows) (see shaders/gatherBatch.ts, gatherLabels) */
  gatherLabels(batchLabels: BufferSlice, labels: BufferSlice, order: BufferSlice, batch: BufferSlice, capacity: number): Dispatch {
    return dispatch(this.cache, kernels.gatherLabels(capacity), { labels, order, batchLabels, batch });
  }

  /** probabilities[rows×classes] = softmax(logits) */
  softmax(probabilities: BufferSlice, logits: BufferSlice, capacityRows: number, classes: number): Dispatch {
    // The kernel reads its rows from the bound length of probabilities: bind exactly capacityRows × classes.
    const bound = { ...probabilities, size: capacityRows * classes * 4 };
    return dispatch(this.cache, kernels.softmax(this.choices.softmax.workgroupSize, capacityRows, classes), { logits, probabilities: bound });
  }

  /** Compiles softmax for `classes` now (a few ms), so a predict after fit compiles nothing while fit's full products still compile in the background. */
  prepareSoftmax(classes: number): void {
    const { code, entryPoint, bindings } = kernels.softmax(this.choices.softmax.workgroupSize, 1, classes);
    this.cache.get(code, entryPoint, bindings);
  }

  private optimizerVariant(length: number, variant?: OptimizerVariant): OptimizerVariant {
    return variant ?? chooseFirst(this.choices.optimizer, (c) => optimizerUnsupported(c, length) === null, `optimizer length=${length}`);
  }

  /** One Adam/AdamW step over `length` parameters; `adam` is the uniform block (see shaders/optimizer.ts). */
  adamUpdate(params: BufferSlice, moment1: BufferSlice, moment2: BufferSlice, grads: BufferSlice, adam: BufferSlice, length: number, variant?: OptimizerVariant): Dispatch {
    return dispatch(this.cache, kernels.adamUpdate(this.optimizerVariant(length, variant), length), { grads, params, moment1, moment2, adam });
  }

  /** One SGD step over `length` parameters; `sgd` is the uniform block (see shaders/optimizer.ts). */
  sgdUpdate(params: BufferSlice, velocity: BufferSlice, grads: BufferSlice, sgd: BufferSlice, length: number, variant?: OptimizerVariant): Dispatch {
    return dispatch(this.cache, kernels.sgdUpdate(this.optimizerVariant(length, variant), length), { grads, params, velocity, sgd });
  }

  /** output[count] = op(input), an activation from the elementwise template (shaders/elementwise.ts) */
  elementwiseForward(op: ElementwiseOp, output: BufferSlice, input: BufferSlice, count: number): Dispatch {
    return dispatch(this.cache, kernels.elementwiseForward(op, count), { input, output });
  }

  /** dInput[count] = op's backward of (dOutput, input, output) */
  elementwiseBackward(op: ElementwiseOp, dInput: BufferSlice, dOutput: BufferSlice, input: BufferSlice, output: BufferSlice, count: number): Dispatch {
    return dispatch(this.cache, kernels.elementwiseBackward(op, count), { dOutput, input, output, dInput });
  }

  /** Each column of weight[inputs×outputs] scaled to L2 norm ≤ c (see shaders/maxNorm.ts) */
  maxNorm(weight: BufferSlice, inputs: number, outputs: number, c: number): Dispatch {
    return dispatch(this.cache, kernels.maxNorm(inputs, outputs, c), { weight });
  }
}
