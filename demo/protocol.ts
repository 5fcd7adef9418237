// Messages between the demo page and its training worker (the engine runs in the worker, so the page
// stays responsive while the GPU trains).
import type { MatmulForm, MatmulShape } from '../shaders/matmul.js';
import type { VariantResult } from '../src/tuning/matmulVariants.js';
import type { StepBreakdown } from '../src/bench/step.js';
import type { AdapterDescription } from '../src/gpu/device.js';
import type { ExperimentConfig } from '../src/experiments/config.js';
import type { ExperimentResult } from '../src/experiments/run.js';
import type { RunRecipe } from '../src/engine/recipe.js';

export type ToWorker =
  /** Open the GPU and load MNIST; `warm`: the form's recipe, whose pipelines compile meanwhile. */
  | { type: 'init'; warm?: RunRecipe }
  | { type: 'train'; config: RunRecipe }
  | { type: 'stop' }
  /** After a lost device: open a new one and go on from the last epoch's checkpoint (or from the start). */
  | { type: 'resume' }
  /** Simulates losing the GPU device (device.destroy()), as WEBGL_lose_context does for WebGL: for testing recovery. */
  | { type: 'loseDevice' }
  | { type: 'reset' }
  | { type: 'predict'; pixels: Uint8Array }
  | { type: 'save' }
  | { type: 'load'; bytes: Uint8Array; name: string }
  | ({ type: 'bench' } & BenchRequest)
  /** Train each configuration on the first `trainSize` training images, one after another. */
  | { type: 'experiments'; configs: ExperimentConfig[]; trainSize: number };

/** The Bench panel's request: `quick` shrinks the hidden layer (500 → 64) and times each matmul variant briefly. */
export interface BenchRequest {
  batchSize: number;
  quick: boolean;
}

/** One matmul product of the step, announced before its variants are timed one by one. */
export interface BenchProduct {
  index: number;
  form: MatmulForm;
  shape: MatmulShape;
  what: string;
  /** Candidate variants, including any this shape cannot run. */
  variants: number;
}

/** A variant's row; `skipped` says why it was not run (shape, device limits, GPU error). */
export type BenchVariantRow = VariantResult;

export interface Misclassified {
  index: number;
  predicted: number;
  label: number;
  /** The probability the model gave its (wrong) answer. */
  confidence: number;
  pixels: Uint8Array;
}

/** A training image for the page's preview of the data set. */
export interface LabelledDigit {
  label: number;
  pixels: Uint8Array;
}

export interface FinishedRun {
  stopped: boolean;
  testAccuracy: number;
  testLoss: number;
  /** confusion[label * 10 + predicted] over the test set. */
  confusion: number[];
  /** The mistakes the model was surest of, most confident first. */
  misclassified: Misclassified[];
  /** The first layer's weight as PyTorch holds it: [units × 784] (linear) or [filters × 1 × k × k] (conv2d). */
  firstLayer: Float32Array;
  /** Its units (hidden units or filters), and the side of each one's square tile (28, or k). */
  hidden: number;
  tileSide: number;
}

export type FromWorker =
  | { type: 'ready'; adapter: AdapterDescription; train: number; validation: number; test: number; preview: LabelledDigit[] }
  | { type: 'error'; message: string }
  /** `loss` and `accuracy` are the epoch's running means over its first `samples` images, at progress points only. */
  /** The run's first step is done on the GPU, `ms` after the train request reached the worker (MNIST in memory). */
  | { type: 'firstStep'; ms: number }
  | { type: 'step'; epoch: number; step: number; stepsPerEpoch: number; samples: number; loss?: number; accuracy?: number; samplesPerSecond: number }
  | { type: 'epoch'; epoch: number; trainLoss: number; valLoss: number; valAccuracy: number; seconds: number; samplesPerSecond: number }
  | ({ type: 'done' } & FinishedRun)
  | { type: 'reset' }
  /** The device was lost mid-training; `epochsDone` epochs are kept in a checkpoint to resume from. */
  | { type: 'deviceLost'; message: string; epochsDone: number }
  | { type: 'resumed'; epochsDone: number; adapter: AdapterDescription }
  | { type: 'prediction'; probabilities: number[] }
  | { type: 'saved'; bytes: Uint8Array }
  | ({ type: 'loaded'; name: string; /** Its name and parameter count, in words. */ architecture: string } & FinishedRun)
  // The benchmark streams its results as they come: the step breakdown, then each product and its variants.
  | { type: 'benchStep'; sizes: number[]; breakdown: StepBreakdown }
  | ({ type: 'benchProduct' } & BenchProduct)
  | { type: 'benchVariant'; product: number; row: BenchVariantRow }
  | { type: 'benchDone'; seconds: number }
  | { type: 'benchFailed'; message: string }
  // The Experiments panel: each configuration starts, reports its epochs, and finishes with its result.
  | { type: 'experimentStart'; index: number }
  | { type: 'experimentEpoch'; index: number; epoch: number; valAccuracy: number; valLoss: number }
  | { type: 'experimentDone'; index: number; result: ExperimentResult }
  | { type: 'experimentsDone'; stopped: boolean }
  | { type: 'experimentsFailed'; message: string };
