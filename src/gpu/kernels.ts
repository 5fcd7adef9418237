// The kernels of the GPU ops (ops.ts) as values: each a function of its variant and sizes, named as its WGSL
// entry point, that gives the Kernel (WGSL, bindings, invocations, cost) Ops dispatches on its buffers and
// `npm run shaders` prints. Labels are the dispatches' labels (benchmarks, errors).
import { GATHER_BATCH_BINDINGS, GATHER_LABELS_BINDINGS, GATHER_TARGETS_BINDINGS, gatherBatchShader, gatherInvocations, gatherLabelsShader, gatherTargetsShader, type GatherInput } from '../../shaders/gatherBatch.js';
import { targetLossBindings, targetLossShader, type TargetLoss } from '../../shaders/targetLosses.js';
import { BIAS_GRAD_BINDINGS, biasGradInvocations, biasGradShader, biasGradVariantName, type BiasGradVariant } from '../../shaders/biasGrad.js';
import {
  MATMUL_ENTRY, matmulBindings, matmulShader, matmulTiles, matmulVariantName, type MatmulEpilogue, type MatmulForm, type MatmulShape, type MatmulVariant,
} from '../../shaders/matmul.js';
import { ADAM_BINDINGS, SGD_BINDINGS, adamUpdateShader, optimizerInvocations, sgdUpdateShader, type OptimizerVariant } from '../../shaders/optimizer.js';
import {
  SOFTMAX_BINDINGS, softmaxCrossEntropyBindings, softmaxCrossEntropyShader, softmaxInvocations, softmaxShader, type SoftmaxVariant,
} from '../../shaders/softmaxCrossEntropy.js';
import { MAX_NORM_BINDINGS, maxNormShader } from '../../shaders/maxNorm.js';
import {
  ELEMENTWISE_BACKWARD_BINDINGS, ELEMENTWISE_FORWARD_BINDINGS, elementwiseBackwardShader, elementwiseEntry, elementwiseForwardShader, type ElementwiseOp,
} from '../../shaders/elementwise.js';
import type { Kernel } from './dispatch.js';
import { quickMatmulTwin } from './variants.js';

/** Workgroup size of the simple elementwise kernels (activations, maxNorm, dropout, convolution columns, pooling). */
export const ELEMENTWISE_WORKGROUP = 64;

/** Workgroup size of the gather kernels. */
const GATHER_WORKGROUP = 64;

/** A fused epilogue's name in labels, as the shaders CLI's --epilogue takes it: 'bias', 'bias+relu', 'backward+relu'. */
export function epilogueName(epilogue: MatmulEpilogue, activation?: ElementwiseOp): string {
  if (epilogue === 'biasActivation') return `bias+${activation?.name}`;
  if (epilogue === 'activationBackward') return `backward+${activation?.name}`;
  return epilogue;
}

/** 'matmulNN 128×500×784 nn-vec4-4x4-wg64 +bias+relu' */
export function matmulLabel(form: MatmulForm, variant: MatmulVariant, shape: MatmulShape): string {
  const epilogue = shape.epilogue ?? 'none';
  return `${MATMUL_ENTRY[form]} ${shape.M}×${shape.N}×${shape.K} ${matmulVariantName(variant)}${epilogue === 'none' ? '' : ` +${epilogueName(epilogue, shape.activation)}`}`;
}

export const kernels = {
  /** C[M×N] = A·B in `form` (nn, nt, tn) with its epilogue; `withTwin`: a chosen variant may start on its quick twin. */
  matmul(form: MatmulForm, variant: MatmulVariant, shape: MatmulShape, withTwin = false): Kernel {
    const { M, N, K } = shape;
    const epilogue = shape.epilogue ?? 'none';
    // Bytes: each operand read once and C written once; u8 pixels are one byte each.
    const extraFloats = epilogue === 'activationBackward' ? (matmulBindings(shape).length - 3) * M * N : epilogue === 'none' ? 0 : N;
    const cost = { flops: 2 * M * N * K, bytes: M * K * (shape.inputU8 ? 1 : 4) + 4 * (N * K + M * N + extraFloats) };
    const twin = withTwin ? quickMatmulTwin(variant, shape) : null;
    return {
      label: matmulLabel(form, variant, shape), code: matmulShader(variant, shape), entryPoint: MATMUL_ENTRY[form], bindings: matmulBindings(shape),
      invocations: matmulTiles(variant, shape), workgroupSize: variant.workgroupSize, cost,
      ...(twin && { quick: { code: matmulShader(twin, shape), invocations: matmulTiles(twin, shape) } }),
    };
  },

  /** dBias[N] = Σ_m dY[M×N] */
  biasGrad(v: BiasGradVariant, M: number, N: number): Kernel {
    return {
      label: `biasGrad ${M}×${N} ${biasGradVariantName(v)}`, code: biasGradShader(v, M, N), entryPoint: 'biasGrad', bindings: BIAS_GRAD_BINDINGS,
      invocations: biasGradInvocations(v, N), workgroupSize: v.workgroupSize, cost: { flops: M * N, bytes: 4 * (M * N + N) },
    };
  },

  /** Loss, accuracy counts and (v.gradient) dLogits of rows×classes logits. */
  softmaxCrossEntropy(v: SoftmaxVariant, capacityRows: number, classes: number): Kernel {
    return {
      label: `softmaxCrossEntropy ${capacityRows}×${classes} per-${v.perRow ?? 'invocation'}-wg${v.workgroupSize}`,
      code: softmaxCrossEntropyShader(v, capacityRows, classes), entryPoint: 'softmaxCrossEntropy', bindings: softmaxCrossEntropyBindings(v.gradient),
      invocations: softmaxInvocations(v, capacityRows), workgroupSize: v.workgroupSize,
      cost: { flops: 5 * capacityRows * classes, bytes: 4 * (capacityRows * classes * (v.gradient ? 2 : 1) + 3 * capacityRows) },
    };
  },

  /** meanSquaredError or sigmoidCrossEntropy over rows×outputs logits and targets (with `gradient`, dLogits too). */
  targetLoss(loss: TargetLoss, v: { workgroupSize: number; gradient: boolean }, capacityRows: number, outputs: number): Kernel {
    return {
      label: `${loss} ${capacityRows}×${outputs} wg${v.workgroupSize}`, code: targetLossShader(loss, v, capacityRows, outputs), entryPoint: loss,
      bindings: targetLossBindings(v.gradient), invocations: capacityRows, workgroupSize: v.workgroupSize,
      cost: { flops: 8 * capacityRows * outputs, bytes: 4 * (capacityRows * outputs * (v.gradient ? 3 : 2) + 2 * capacityRows) },
    };
  },

  /** batchTargets[capacity×width] = target rows at order[start .. start+rows) */
  gatherTargets(capacity: number, width: number): Kernel {
    return {
      label: `gatherTargets ${capacity}×${width}`, code: gatherTargetsShader(GATHER_WORKGROUP, capacity, width), entryPoint: 'gatherTargets',
      bindings: GATHER_TARGETS_BINDINGS, invocations: capacity * width, workgroupSize: GATHER_WORKGROUP,
      cost: { flops: 0, bytes: 8 * capacity * width + 4 * capacity },
    };
  },

  /** input[capacity×features], batchLabels[capacity] = images (u8 or f32), labels at order[start .. start+rows) */
  gatherBatch(capacity: number, features: number, kind: GatherInput = 'u8'): Kernel {
    return {
      label: `gatherBatch ${capacity}×${features}${kind === 'f32' ? ' f32' : ''}`, code: gatherBatchShader(GATHER_WORKGROUP, capacity, features, kind),
      entryPoint: 'gatherBatch', bindings: GATHER_BATCH_BINDINGS, invocations: gatherInvocations(capacity, features, kind), workgroupSize: GATHER_WORKGROUP,
      cost: { flops: 0, bytes: 2 * (capacity * features * (kind === 'f32' ? 4 : 1) + 8 * capacity) },
    };
  },

  /** batchLabels[capacity] = labels at order[start .. start+rows) */
  gatherLabels(capacity: number): Kernel {
    return {
      label: `gatherLabels ${capacity}`, code: gatherLabelsShader(GATHER_WORKGROUP, capacity), entryPoint: 'gatherLabels', bindings: GATHER_LABELS_BINDINGS,
      invocations: capacity, workgroupSize: GATHER_WORKGROUP, cost: { flops: 0, bytes: 12 * capacity },
    };
  },

  /** probabilities[rows×classes] = softmax(logits) */
  softmax(workgroupSize: number, capacityRows: number, classes: number): Kernel {
    return {
      label: `softmax ${capacityRows}×${classes}`, code: softmaxShader(workgroupSize, classes), entryPoint: 'softmax', bindings: SOFTMAX_BINDINGS,
      invocations: capacityRows, workgroupSize, cost: { flops: 4 * capacityRows * classes, bytes: 8 * capacityRows * classes },
    };
  },

  /** One Adam/AdamW step over `length` parameters: reads gradient, parameter and both moments; writes the last three. */
  adamUpdate(v: OptimizerVariant, length: number): Kernel {
    return {
      label: `adamUpdate ${length} ${v.vec4 ? 'vec4' : 'scalar'}`, code: adamUpdateShader(v, length), entryPoint: 'adamUpdate', bindings: ADAM_BINDINGS,
      invocations: optimizerInvocations(v, length), workgroupSize: v.workgroupSize, cost: { flops: 12 * length, bytes: 7 * 4 * length },
    };
  },

  /** One SGD step over `length` parameters. */
  sgdUpdate(v: OptimizerVariant, length: number): Kernel {
    return {
      label: `sgdUpdate ${length} ${v.vec4 ? 'vec4' : 'scalar'}`, code: sgdUpdateShader(v, length), entryPoint: 'sgdUpdate', bindings: SGD_BINDINGS,
      invocations: optimizerInvocations(v, length), workgroupSize: v.workgroupSize, cost: { flops: 5 * length, bytes: 5 * 4 * length },
    };
  },

  /** output[count] = op(input) */
  elementwiseForward(op: ElementwiseOp, count: number): Kernel {
    const entry = elementwiseEntry(op, 'forward');
    return {
      label: `${entry} ${count}`, code: elementwiseForwardShader(op, ELEMENTWISE_WORKGROUP, count), entryPoint: entry, bindings: ELEMENTWISE_FORWARD_BINDINGS,
      invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP, cost: { flops: count, bytes: 8 * count },
    };
  },

  /** dInput[count] = op's backward of (dOutput, input, output) */
  elementwiseBackward(op: ElementwiseOp, count: number): Kernel {
    const entry = elementwiseEntry(op, 'backward');
    return {
      label: `${entry} ${count}`, code: elementwiseBackwardShader(op, ELEMENTWISE_WORKGROUP, count), entryPoint: entry, bindings: ELEMENTWISE_BACKWARD_BINDINGS,
      invocations: count, workgroupSize: ELEMENTWISE_WORKGROUP, cost: { flops: 2 * count, bytes: 16 * count },
    };
  },

  /** Each column of weight[inputs×outputs] scaled to L2 norm ≤ c */
  maxNorm(inputs: number, outputs: number, c: number): Kernel {
    return {
      label: `maxNorm ${inputs}×${outputs} c=${c}`, code: maxNormShader(ELEMENTWISE_WORKGROUP, inputs, outputs, c), entryPoint: 'maxNorm',
      bindings: MAX_NORM_BINDINGS, invocations: outputs, workgroupSize: ELEMENTWISE_WORKGROUP, cost: { flops: 3 * inputs * outputs, bytes: 8 * inputs * outputs },
    };
  },
};
