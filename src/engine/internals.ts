// The engine's own view of a model (its GPU parameters, kernels, plans, RNG and optimizer), for benchmarks, the
// kernel comparisons, the peers page and tests. A model registers it when it is made; src/index.ts does not
// export this module, so it is not part of the public API.
import type { Ops } from '../gpu/ops.js';
import type { Random } from '../gpu/random.js';
import type { MlpParameters } from './mlp.js';
import type { GpuOptimizer, OptimizerConfig } from './optimizer.js';
import type { ModelPlan, PlanMode } from './plan.js';
import type { Augmentation } from '../augment/spec.js';

/** What those readers use of a model, and nothing else. */
export interface ModelInternals {
  /** The GPU parameters: their layout (tensor names, offsets) for references and comparisons, the buffers. */
  readonly parameters: MlpParameters;
  /** The model's kernels and variant choices: the kernel comparisons run theirs through it. */
  readonly ops: Ops;
  /** The model's RNG: the peers page checks it shuffled as its peers did. */
  readonly random: Random;
  /** The optimizer of the last fit (undefined before one, or after a reset). */
  readonly optimizer: GpuOptimizer | undefined;
  /** The plan for a mode and capacity (training plans: with `augmentation`, if given), built on first use. */
  plan(mode: PlanMode, capacity: number, augmentation?: Augmentation): ModelPlan;
  useOptimizer(config: OptimizerConfig & { reset?: boolean }): GpuOptimizer;
}

const views = new WeakMap<object, ModelInternals>();

export function registerInternals(model: object, view: ModelInternals): void {
  views.set(model, view);
}

export function modelInternals(model: object): ModelInternals {
  const view = views.get(model);
  if (!view) throw new Error('modelInternals: not a Model of this engine');
  return view;
}
