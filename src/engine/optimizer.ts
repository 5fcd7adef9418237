// Optimizer state on the GPU (moments or velocity, shaped like the parameters) and its one update dispatch.
// The host keeps the step count and writes the per-step uniforms (bias corrections) before each submit.
import { BadInputError } from '../errors.js';
import { UniformWords } from '../../shaders/bindings.js';
import { ADAM_UNIFORM_BYTES, packAdamUniform, packSgdUniform, SGD_UNIFORM_BYTES } from '../../shaders/optimizer.js';
import { uniformBuffer } from '../gpu/buffers.js';
import type { Dispatch } from '../gpu/dispatch.js';
import type { MlpParameters } from './mlp.js';
import type { Ops } from '../gpu/ops.js';

/** The optimizers, as PyTorch's torch.optim.Adam, AdamW and SGD. */
export type OptimizerKind = 'adam' | 'adamw' | 'sgd';
/** Every OptimizerKind, in the order error messages and the CLI list them. */
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['adam', 'adamw', 'sgd'];

/** An optimizer and its hyperparameters, with PyTorch's names and defaults; what is absent takes the default. */
export interface OptimizerConfig {
  /** Which optimizer. */
  kind: OptimizerKind;
  /** Base learning rate, > 0 (and non-zero as an f32); a schedule scales it per step. */
  lr: number;
  /** Adam, AdamW: decay of the first moment (the gradient's running mean), in [0, 1). Default 0.9. */
  beta1?: number;
  /** Adam, AdamW: decay of the second moment (the squared gradient's running mean), in [0, 1). Default 0.999. */
  beta2?: number;
  /** Adam, AdamW: added to the second moment's square root in the denominator, > 0. Default 1e-8. */
  eps?: number;
  /** Adam: added to the gradient (L2); AdamW: decoupled; SGD: added to the gradient. Default 0.01 for AdamW, else 0. */
  weightDecay?: number;
  /** SGD: momentum factor, in [0, 1). Default 0 (plain SGD). */
  momentum?: number;
  /** SGD: dampening of the gradient added to the velocity. Default 0. */
  dampening?: number;
  /** SGD: Nesterov momentum (needs momentum > 0). Default false. */
  nesterov?: boolean;
}

export function resolveOptimizer(c: OptimizerConfig): Required<OptimizerConfig> {
  if (!OPTIMIZER_KINDS.includes(c.kind)) throw new BadInputError(`unknown optimizer '${c.kind}': expected ${OPTIMIZER_KINDS.join(', ')}`);
  const full = {
    kind: c.kind,
    lr: c.lr,
    beta1: c.beta1 ?? 0.9,
    beta2: c.beta2 ?? 0.999,
    eps: c.eps ?? 1e-8,
    weightDecay: c.weightDecay ?? (c.kind === 'adamw' ? 0.01 : 0),
    momentum: c.momentum ?? 0,
    dampening: c.dampening ?? 0,
    nesterov: c.nesterov ?? false,
  };
  const check = (name: string, value: number, ok: boolean) => {
    if (!ok) throw new BadInputError(`optimizer ${name} out of range: ${value}`);
  };
  check('lr', full.lr, Number.isFinite(full.lr) && full.lr > 0);
  // The kernels read hyperparameters as f32: a learning rate that rounds to 0 (or to infinity) trains nothing.
  if (!(Math.fround(full.lr) > 0 && Number.isFinite(Math.fround(full.lr)))) throw new BadInputError(`optimizer lr ${full.lr} is 0 or infinite as an f32, which the GPU computes in`);
  check('beta1', full.beta1, full.beta1 >= 0 && full.beta1 < 1);
  check('beta2', full.beta2, full.beta2 >= 0 && full.beta2 < 1);
  check('eps', full.eps, full.eps > 0);
  check('weightDecay', full.weightDecay, full.weightDecay >= 0);
  check('momentum', full.momentum, full.momentum >= 0 && full.momentum < 1);
  if (full.nesterov && full.momentum === 0) throw new BadInputError('nesterov needs a momentum > 0');
  return full;
}

/**
 * The stretches of the flat layout the optimizer updates, [start, end) in floats: the tensors of trainable
 * layers, each run of neighbours merged (padding after a tensor goes with it, so a stretch stays a multiple of
 * 4 floats and starts aligned). Nothing frozen: the whole buffer, one stretch.
 */
export function trainableStretches(model: MlpParameters): [number, number][] {
  const { layout, architecture } = model;
  const frozen = new Set(architecture.layers.filter((l) => !l.trainable).flatMap((l) => l.parameters.map((p) => p.name)));
  const stretches: [number, number][] = [];
  layout.tensors.forEach((t, i) => {
    if (frozen.has(t.name)) return;
    const end = layout.tensors[i + 1]?.offset ?? layout.totalLength;
    const last = stretches.at(-1);
    if (last && last[1] === t.offset) last[1] = end;
    else stretches.push([t.offset, end]);
  });
  return stretches;
}

export class GpuOptimizer {
  /** Hyperparameters: uniforms, so a later fit may change them and keep the state. */
  config: Required<OptimizerConfig>;
  /** Moments or velocity, each the whole layout's size; a frozen layer's slices stay zero, never touched. */
  readonly state: GPUBuffer[];
  /** One update dispatch per stretch of trainable tensors (trainableStretches): one when nothing is frozen. */
  readonly updates: Dispatch[];
  /** Updates applied so far (PyTorch's `step`). */
  step = 0;
  /** The update's uniform block (hyperparameters and this step's bias corrections). */
  readonly uniform: GPUBuffer;
  /** Where nextStepWords packs the uniform block (reused from step to step). */
  readonly uniformWords = new UniformWords(Math.max(ADAM_UNIFORM_BYTES, SGD_UNIFORM_BYTES));

  constructor(readonly model: MlpParameters, ops: Ops, config: OptimizerConfig) {
    this.config = resolveOptimizer(config);
    const whole = (buffer: GPUBuffer) => ({ buffer });
    const stretches = trainableStretches(model);
    // The whole buffer bound as it always was when nothing is frozen; else each stretch's range.
    const all = stretches.length === 1 && stretches[0][0] === 0 && stretches[0][1] === model.layout.totalLength;
    const part = (buffer: GPUBuffer, [start, end]: [number, number]) => (all ? whole(buffer) : { buffer, offset: start * 4, size: (end - start) * 4 });
    if (this.config.kind === 'sgd') {
      this.uniform = uniformBuffer(model.device, SGD_UNIFORM_BYTES, 'sgd');
      this.state = [model.makeStateBuffer('velocity')];
      this.updates = stretches.map((s) => ops.sgdUpdate(part(model.params, s), part(this.state[0], s), part(model.grads, s), whole(this.uniform), s[1] - s[0]));
    } else {
      this.uniform = uniformBuffer(model.device, ADAM_UNIFORM_BYTES, 'adam');
      this.state = [model.makeStateBuffer('moment1'), model.makeStateBuffer('moment2')];
      this.updates = stretches.map((s) => ops.adamUpdate(part(model.params, s), part(this.state[0], s), part(this.state[1], s), part(model.grads, s), whole(this.uniform), s[1] - s[0]));
    }
  }

  /** Queues the uniforms of the next update (step + 1) at learning rate `lr`; call once per training step. */
  writeNextStep(lr = this.config.lr): void {
    this.model.device.queue.writeBuffer(this.uniform, 0, this.nextStepWords(lr));
  }

  /** The uniforms of the next update (step + 1), and counts that step as taken (a view reused from call to call). */
  nextStepWords(lr = this.config.lr): ArrayBuffer {
    const c = this.config;
    this.step += 1;
    return c.kind === 'sgd'
      ? packSgdUniform(this.uniformWords, { lr, momentum: c.momentum, dampening: c.dampening, weightDecay: c.weightDecay, nesterov: c.nesterov, step: this.step })
      : packAdamUniform(this.uniformWords, { lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, decoupled: c.kind === 'adamw', step: this.step });
  }

  destroy(): void {
    this.uniform.destroy();
    for (const b of this.state) b.destroy();
  }
}
