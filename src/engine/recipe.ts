// How a model is trained, as data: the one recipe type that fit, checkpoints, the CLI, the demo and the
// headless pages share. A model keeps the recipe of its last fit (`model.recipe`), and a full checkpoint carries it.
import type { OptimizerConfig } from './optimizer.js';
import type { ScheduleConfig } from './schedule.js';
import type { LayerSpec } from '../layers/index.js';
import type { Augmentation } from '../augment/spec.js';

/** How a model is trained: what fit takes besides the data and epoch count, and what a model and a full checkpoint record. */
export interface TrainingRecipe {
  /** Images per training step, a positive integer (the last step of an epoch may have fewer). */
  batchSize: number;
  /** The optimizer and its hyperparameters; the recorded recipe has every one filled in. */
  optimizer: OptimizerConfig;
  /** Learning-rate schedule over the whole run (see schedule.ts). Default constant. */
  schedule?: ScheduleConfig;
  /** ε of PyTorch's CrossEntropyLoss(label_smoothing=ε) for training. Default 0. */
  labelSmoothing?: number;
  /** Max-norm on every linear layer's incoming weights, after each update. */
  maxNorm?: number;
  /** Distortions of each training batch's images, drawn anew every step (src/augment/spec.ts). Default none. */
  augment?: Augmentation;
}

/**
 * A whole training run on MNIST as data: the model's layers, the data split and the training recipe. The CLI's
 * flags (`train`, `train:browser`), the headless page and the demo's form all produce this one type.
 */
export interface RunRecipe extends TrainingRecipe {
  layers: LayerSpec[];
  epochs: number;
  seed: number;
  /** Training images used (the first N of the training split); all when absent. */
  limit?: number;
  validationSize: number;
  /** Pixel normalization: (x/255 − mean) / std. MNIST's (0.1307, 0.3081), or (0, 1) for plain x/255. */
  pixelMean: number;
  pixelStd: number;
  /** Read the running loss back every this many steps (0: at epoch ends only). */
  progressEvery: number;
  /** Early stopping after this many epochs without a better validation accuracy. */
  patience?: number;
}
