// The plan's one rewrite: running each elementwise activation inside its neighbours. Layers are plain
// forward/backward pairs; this pass alone decides, from what the activation declares (its elementwise op,
// LayerModule.elementwise) and what its neighbours' kernels take (LayerModule.fuses), that
//   forward   an activation right after a layer that takes an `epilogue` (linear, conv2d, batchnorm) runs as
//             that layer's epilogue: no dispatch of its own, and both share one output buffer (the
//             activation's output). In training only when its backward reads y alone (relu, tanh, sigmoid):
//             one that reads x (gelu, leakyrelu, silu) needs the pre-activation kept, so it runs its own forward;
//   backward  an activation right before a layer that takes `inputGrad` (linear, conv2d, maxpool2d, avgpool2d,
//             flatten, dropout) has its backward expression applied inside that layer's input-gradient kernel,
//             reading its x and/or y from the buffers the forward left.
// Either half can happen without the other; an activation that fuses neither runs its own elementwise kernels.
// Layers that are the identity in this mode (dropout outside training) are left out first. With `fuse` off
// every layer runs its own kernels: the tests check that both plans give the same numbers.
import type { PlacedLayer } from '../layers/architecture.js';
import { backwardReads, type ElementwiseOp } from '../../shaders/elementwise.js';

export interface Stage {
  layer: PlacedLayer;
  /** This activation runs as the epilogue of the stage before: no forward dispatch, that stage's output is its own. */
  forwardFused: boolean;
  /** This activation's backward runs inside the next stage's input-gradient kernel: no dispatch, no gradient buffer. */
  backwardFused: boolean;
  /** The activation after this stage, run as its forward epilogue. */
  epilogue?: ElementwiseOp;
  /** The activation this stage's input came out of, whose backward its input-gradient kernel applies. */
  inputGradActivation?: ElementwiseOp;
}

export function planStages(layers: readonly PlacedLayer[], training: boolean, fuse: boolean): Stage[] {
  const stages: Stage[] = layers
    .filter((layer) => !layer.module.isIdentity?.(layer.spec, training))
    .map((layer) => ({ layer, forwardFused: false, backwardFused: false }));
  if (!fuse) return stages;
  stages.forEach((stage, s) => {
    const op = stage.layer.module.elementwise?.(stage.layer.spec);
    if (!op) return;
    const before = stages[s - 1];
    const keepsInput = training && backwardReads(op).x;
    if (before && before.layer.module.fuses?.epilogue && !before.epilogue && !before.forwardFused && !keepsInput) {
      before.epilogue = op;
      stage.forwardFused = true;
    }
    const after = stages[s + 1];
    if (training && after && after.layer.module.fuses?.inputGrad) {
      after.inputGradActivation = op;
      stage.backwardFused = true;
    }
  });
  return stages;
}
