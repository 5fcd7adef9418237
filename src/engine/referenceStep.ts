// Float64 reference of a whole training step (forward, loss, backward) of any model, walking its layers'
// reference twins (src/layers/), with the engine's layout: linear weights [in × out], u8 pixels read as
// x/255 · scale + shift, f32 features read as they are. Nothing is fused here: the plan's fusions must give these numbers.
import { meanSquaredError, sigmoidCrossEntropy, softmaxCrossEntropy } from '../reference/ops.js';
import type { LossKind } from '../data/loss.js';
import { mlpArchitecture } from './mlp.js';
import type { Architecture } from '../layers/architecture.js';
import type { LayerReferenceStep } from '../layers/layer.js';
import type { LayerSpec } from '../layers/index.js';
import { slotOf, type ParamLayout } from './paramLayout.js';

export interface ReferenceStep {
  loss: number;
  /** Rows classified right ('cross-entropy'); Σ of the rows' mean absolute errors ('mse') or shares of labels right ('bce'). */
  correct: number;
  /** Gradients in the flat layout (padding zero, and a frozen layer's zero). */
  grads: Float64Array;
  logits: Float64Array;
}

export interface ReferenceOptions {
  labelSmoothing?: number;
  /** The loss (default 'cross-entropy', against `labels`); 'mse' and 'bce' take `targets` [rows × outputs] instead. */
  loss?: LossKind;
  targets?: Float32Array | Float64Array | number[];
  /** Dropout's key: the model's seed and the optimizer step being taken (1-based). */
  seed?: number;
  step?: number;
  /** Dropout is on only in training, batch norm takes batch statistics only then. Default true. */
  training?: boolean;
  /** The kept state (batch norm's running estimates) in its layout; default each tensor's initial value. */
  state?: { values: ArrayLike<number>; layout: ParamLayout };
}

export function mlpForwardBackward(
  params: ArrayLike<number>, layout: ParamLayout, model: Architecture | number[],
  inputs: Uint8Array | Float32Array, labels: ArrayLike<number>, rows: number, pixelScale = 1, pixelShift = 0, options: ReferenceOptions = {},
): ReferenceStep {
  const arch = Array.isArray(model) ? mlpArchitecture(model, options.loss) : model;
  const grads = new Float64Array(layout.totalLength);
  const steps = arch.layers.map((layer): LayerReferenceStep<LayerSpec> => {
    const tensor = (source: ArrayLike<number> | Float64Array, role: string) => {
      const s = slotOf(layout, `${layer.index}.${role}`);
      return source === grads ? grads.subarray(s.offset, s.offset + s.length) : Float64Array.from({ length: s.length }, (_, i) => params[s.offset + i]);
    };
    // A frozen layer's parameter gradients are made (its input gradient needs the same pass) but not kept.
    const grad = (role: string) => (layer.trainable ? tensor(grads, role) : new Float64Array(slotOf(layout, `${layer.index}.${role}`).length));
    return {
      spec: layer.spec, place: layer, rows,
      param: (role) => tensor(params, role), grad,
      state: (role) => {
        const decl = layer.state.find((s) => s.role === role)!;
        if (!options.state) {
          const initial = new Float32Array(decl.shape.reduce((a, b) => a * b, 1));
          decl.init(initial);
          return Float64Array.from(initial);
        }
        const s = slotOf(options.state.layout, decl.name);
        return Float64Array.from({ length: s.length }, (_, i) => options.state!.values[s.offset + i]);
      },
      seed: options.seed ?? 0, step: options.step ?? 1, training: options.training ?? true,
    };
  });
  const x = referenceInputs(inputs.subarray(0, rows * arch.inputs), pixelScale, pixelShift);
  const acts: Float64Array[] = [x];
  arch.layers.forEach((layer, l) => acts.push(layer.module.referenceForward(acts[l], steps[l])));
  const logits = acts[acts.length - 1];
  let dOut: Float64Array = new Float64Array(rows * arch.classes);
  const losses = new Float64Array(rows);
  const loss = options.loss ?? 'cross-entropy';
  if (loss !== 'cross-entropy' && !options.targets) throw new Error(`reference step: loss '${loss}' needs targets`);
  const correct = loss === 'mse' ? meanSquaredError(dOut, losses, logits, options.targets!, rows, arch.classes)
    : loss === 'bce' ? sigmoidCrossEntropy(dOut, losses, logits, options.targets!, rows, arch.classes)
      : softmaxCrossEntropy(dOut, losses, logits, labels, rows, arch.classes, options.labelSmoothing ?? 0);
  for (let l = arch.layers.length - 1; l >= 0; l--) {
    dOut = arch.layers[l].module.referenceBackward(dOut, acts[l], acts[l + 1], steps[l]);
  }
  return { loss: losses.reduce((a, b) => a + b, 0) / rows, correct, grads, logits };
}

/** The first layer's input in float64: u8 pixels as x/255 · scale + shift; f32 features as they are (no scale). */
export function referenceInputs(inputs: Uint8Array | Float32Array, pixelScale = 1, pixelShift = 0): Float64Array {
  if (inputs instanceof Float32Array) return Float64Array.from(inputs);
  return Float64Array.from(inputs, (p) => (p / 255) * pixelScale + pixelShift);
}
