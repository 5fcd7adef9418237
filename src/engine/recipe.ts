// How a model is trained, as data: the one recipe type that fit, checkpoints, the CLI, the demo and the
// headless pages share. A model keeps the recipe of its last fit (`model.recipe`), and a full checkpoint carries it.
import type { OptimizerConfig } from './optimizer.js';
import type { ScheduleConfig } from './schedule.js';

export interface TrainingRecipe {
  batchSize: number;
  optimizer: OptimizerConfig;
  /** Learning-rate schedule over the whole run (see schedule.ts). Default constant. */
  schedule?: ScheduleConfig;
  /** ε of PyTorch's CrossEntropyLoss(label_smoothing=ε) for training. Default 0. */
  labelSmoothing?: number;
  /** Max-norm on every linear layer's incoming weights, after each update. */
  maxNorm?: number;
}
