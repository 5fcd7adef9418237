// The plan's one rewrite: fusing each ReLU into its neighbours. Layers are plain forward/backward pairs; this
// pass alone decides, from what each module says its kernels take (LayerModule.fuses), that
//   forward   a ReLU right after a layer that takes `outputRelu` (linear, conv2d) runs as that layer's
//             epilogue: no dispatch of its own, and both share one output buffer (the ReLU's output);
//   backward  a ReLU right before a layer that takes `inputGradMask` (linear, conv2d, maxpool2d, flatten,
//             dropout) runs as the mask (ReLU output > 0) inside that layer's input-gradient kernel.
// Either half can happen without the other; a ReLU that fuses neither runs its own elementwise kernels. Layers
// that are the identity in this mode (dropout outside training) are left out first. With `fuse` off every
// layer runs its own kernels: the tests check that both plans give the same numbers.
import type { PlacedLayer } from '../layers/architecture.js';

export interface Stage {
  layer: PlacedLayer;
  /** This ReLU runs as the epilogue of the stage before: no forward dispatch, that stage's output is its own. */
  forwardFused: boolean;
  /** This ReLU's backward runs inside the next stage's input-gradient kernel: no dispatch, no gradient buffer. */
  backwardFused: boolean;
  /** A ReLU after this stage runs as its forward epilogue. */
  outputRelu: boolean;
  /** The input came out of a ReLU whose backward this stage applies: its input gradient is masked by its input. */
  masksInputGrad: boolean;
}

export function planStages(layers: readonly PlacedLayer[], training: boolean, fuse: boolean): Stage[] {
  const stages: Stage[] = layers
    .filter((layer) => !layer.module.isIdentity?.(layer.spec, training))
    .map((layer) => ({ layer, forwardFused: false, backwardFused: false, outputRelu: false, masksInputGrad: false }));
  if (!fuse) return stages;
  stages.forEach((stage, s) => {
    if (stage.layer.spec.kind !== 'relu') return;
    const before = stages[s - 1];
    if (before && before.layer.module.fuses?.outputRelu && !before.outputRelu && !before.forwardFused) {
      before.outputRelu = true;
      stage.forwardFused = true;
    }
    const after = stages[s + 1];
    if (training && after && after.layer.module.fuses?.inputGradMask) {
      after.masksInputGrad = true;
      stage.backwardFused = true;
    }
  });
  return stages;
}
