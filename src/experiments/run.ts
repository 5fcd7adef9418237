// Runs one experiment: a fresh model trained on the sweep's split, validated each epoch, the best validation
// epoch's weights put back and tested. A run that diverges (DivergedError) is reported as such; the sweep goes on.
import type { Dataset } from '../data/dataset.js';
import { MNIST_MEAN, MNIST_STD } from '../data/mnist.js';
import { Model, type EpochInfo, type StepInfo } from '../engine/model.js';
import { DeviceLimitError, DivergedError, BadInputError } from '../errors.js';
import { parseSchedule } from '../engine/schedule.js';
import { parseAugmentation } from '../augment/spec.js';
import type { VariantChoices } from '../gpu/variants.js';
import { experimentLayers, type ExperimentConfig } from './config.js';

/** One experiment's outcome: a row of a sweep's table. */
export interface ExperimentResult {
  /** The configuration that ran. */
  config: ExperimentConfig;
  /** 'failed': the configuration cannot run on this device (its limits); the sweep goes on. */
  status: 'ok' | 'diverged' | 'stopped' | 'failed';
  /** Where it diverged, or why it stopped. */
  detail?: string;
  /** The epoch with the best validation accuracy (its weights are the ones tested); 0 when none finished. */
  bestEpoch: number;
  /** Validation accuracy of the best epoch, 0..1; NaN when it diverged, failed or no epoch finished. */
  validationAccuracy: number;
  /** Validation loss of the best epoch; NaN as validationAccuracy. */
  validationLoss: number;
  /** Test accuracy of the best validation epoch's weights. */
  testAccuracy: number;
  /** Parameters (weights and biases) in the model; 0 when it could not be built. */
  parameters: number;
  /** Every epoch's EpochInfo, in order. */
  epochs: EpochInfo[];
  /** Wall-clock seconds of the whole fit, validation included. */
  seconds: number;
  /** Training images per second over the epochs' training time. */
  samplesPerSecond: number;
}

/** The fixed split every experiment of a sweep trains, validates and tests on (MNIST u8 images). */
export interface ExperimentData {
  /** Trained on. */
  train: Dataset;
  /** Evaluated every epoch; picks the best epoch (must not be empty). */
  validation: Dataset;
  /** Evaluated once, with the best epoch's weights. */
  test: Dataset;
}

/** How runExperiment runs and reports: kernel variants, early stopping, progress, cancelling and keeping. */
export interface ExperimentHooks {
  /** Kernel variants for the model (default: those of the device's adapter). */
  variants?: VariantChoices;
  /** Stop after this many epochs without a better validation accuracy. */
  patience?: number;
  /** Called at each progress point, as fit's onStep. */
  onStep?: (s: StepInfo) => void;
  /** Called after each epoch, as fit's onEpoch. */
  onEpoch?: (e: EpochInfo) => void | Promise<void>;
  /** Asked before each step; true stops the run. */
  shouldStop?: () => boolean;
  /** Called with the trained model (best weights in place) before it is disposed: to save it. */
  keep?: (model: Model, result: ExperimentResult) => Promise<void>;
}

/**
 * Trains a fresh model for one configuration, keeps its best validation epoch's weights and tests them. A
 * divergence or a configuration over the device's limits is a result ('diverged', 'failed'), not an error.
 */
export async function runExperiment(device: GPUDevice, data: ExperimentData, config: ExperimentConfig, hooks: ExperimentHooks = {}): Promise<ExperimentResult> {
  if (data.validation.count === 0) throw new BadInputError('experiments pick their best epoch on validation: the validation set is empty');
  // A configuration over the device's limits is a row of the sweep (failed), not the end of it.
  const failed = (e: DeviceLimitError, parameters: number): ExperimentResult => ({
    config, status: 'failed', detail: e.message, bestEpoch: 0, validationAccuracy: NaN, validationLoss: NaN, testAccuracy: NaN,
    parameters, epochs: [], seconds: 0, samplesPerSecond: 0,
  });
  let model: Model;
  try {
    model = new Model(device, {
      layers: experimentLayers(config), seed: config.seed, pixelMean: MNIST_MEAN, pixelStd: MNIST_STD, variants: hooks.variants,
    });
  } catch (e) {
    if (e instanceof DeviceLimitError) return failed(e, 0);
    throw e;
  }
  let diverged: string | undefined;
  const history: EpochInfo[] = [];
  const started = performance.now();
  try {
    try {
      await model.fit(data.train, {
        epochs: config.epochs, batchSize: config.batchSize,
        optimizer: { kind: config.optimizer, lr: config.lr, weightDecay: config.weightDecay },
        schedule: parseSchedule(config.schedule), labelSmoothing: config.labelSmoothing, maxNorm: config.maxNorm,
        augment: config.augment === undefined ? undefined : parseAugmentation(config.augment),
        validation: data.validation, restoreBest: true, patience: hooks.patience,
        onStep: hooks.onStep,
        onEpoch: (e) => {
          history.push(e);
          return hooks.onEpoch?.(e);
        },
        shouldStop: hooks.shouldStop,
      });
    } catch (e) {
      // A diverged run is a result of the sweep, not a failure of it; nor is one its device cannot hold.
      if (e instanceof DeviceLimitError) return failed(e, model.parameterCount);
      if (!(e instanceof DivergedError)) throw e;
      diverged = `loss ${e.loss} at epoch ${e.epoch}, step ${e.step}`;
    }
    const seconds = (performance.now() - started) / 1000;
    const best = history.filter((e) => e.best).at(-1);
    const test = best && !diverged ? await model.evaluate(data.test) : undefined;
    const samples = history.reduce((n, e) => n + e.samplesPerSecond * e.seconds, 0);
    const stopped = !diverged && history.length < config.epochs && history.at(-1)?.partial;
    const result: ExperimentResult = {
      config,
      status: diverged ? 'diverged' : stopped ? 'stopped' : 'ok',
      detail: diverged ?? (stopped ? `stopped in epoch ${history.length}` : undefined),
      bestEpoch: best?.epoch ?? 0,
      validationAccuracy: diverged ? NaN : best?.validation?.accuracy ?? NaN,
      validationLoss: diverged ? NaN : best?.validation?.loss ?? NaN,
      testAccuracy: test?.accuracy ?? NaN,
      parameters: model.parameterCount,
      epochs: history,
      seconds,
      samplesPerSecond: samples / Math.max(history.reduce((s, e) => s + e.seconds, 0), 1e-9),
    };
    if (result.status === 'ok') await hooks.keep?.(model, result);
    return result;
  } finally {
    model.dispose();
  }
}
