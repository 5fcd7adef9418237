// npm run train -- [flags]: trains the MLP on MNIST on WebGPU (Node, Dawn) and reports the test accuracy.
import { Model } from '../engine/model.js';
import { architectureOf, linearWidths } from '../engine/mlp.js';
import type { Architecture } from '../layers/architecture.js';
import { autotuneVariants } from '../tuning/autotune.js';
import { defaultVariantsFor } from '../gpu/variants.js';
import { fileTuneStore } from '../node/tuneStore.js';
import { splitMnist } from '../data/mnist.js';
import { PRECISION_FLAG, precisionFlag, precisionNote, requirePrecision, variantsForPrecision } from './precision.js';
import { ADAPTER_CHOICES, openNodeDevice } from '../node/gpu.js';
import { defaultMnistDir, loadMnist } from '../node/mnistFiles.js';
import { checkOutputs, lockOutput, readFileChecked, writeFileAtomic } from '../node/files.js';
import { decodeSafetensors } from '../data/safetensors.js';
import { withDeviceRecovery } from '../node/recovery.js';
import { checkDataset, type AnyDataset } from '../data/dataset.js';
import { formatAdapter } from '../gpu/device.js';
import { openModelFile, readModelFile, saveModelFile } from '../node/modelFiles.js';
import type { SplitOptions } from '../data/mnist.js';
import { choiceFlag, intFlag, parseFlags, runIfEntry, UsageError } from './args.js';
import { parseRecipe, RECIPE_FLAGS, recipeExtras } from './recipe.js';
import { pct, TrainReporter } from './report.js';
import { formatAugmentation } from '../augment/spec.js';
import { counted } from './progress.js';
import { LOSSES, takesTargets } from '../data/loss.js';
import { CSV_FLAGS, csvColumns, isCsvPath, loadTable } from './tableData.js';
import { architecture, defaultInputShape, freezeLayers } from '../layers/architecture.js';
import type { LayerSpec } from '../layers/index.js';

export const USAGE = `usage: npm run train -- [--epochs 10] [--batch-size 128] [--lr 0.001] [--hidden 500[,300...]] [--dropout 0]
  [--layers linear:500,relu,dropout:0.2,linear:10] [--max-norm C]
  [--optimizer adam|adamw|sgd] [--momentum 0] [--weight-decay 0] [--seed 0] [--limit N]
  [--schedule constant|step|cosine|onecycle[:warmup=E:every=E:gamma=G:min=LR]] [--label-smoothing 0] [--patience P]
  [--augment rotate=DEG,scale=F,shear=F,shift=PX,elastic=ALPHA:SIGMA]
  [--validation-size 5000] [--random-split] [--pixels standardized|unit] [--data DIR]
  [--data FILE.csv --label-column NAME | --target-columns A,B [--features C,D] [--validation-size 0.1] [--test-size 0.2]]
  [--loss cross-entropy|mse|bce] [--adapter auto|system|lavapipe|swiftshader] [--progress-every 50] [--json FILE]
  [--autotune] [--no-robustness] [--precision f32|f16] [--steps-per-submit N] [--save FILE.safetensors] [--checkpoint FILE.safetensors] [--checkpoint-every 1] [--resume FILE.safetensors]
  [--weights FILE.safetensors] [--freeze 0,3] [--summary]`;

/** --freeze's layer indices, each a layer with parameters of `layers`, or a UsageError saying which is not. */
function frozenLayersFlag(raw: string | undefined, layers: LayerSpec[]): LayerSpec[] {
  if (raw === undefined) return layers;
  const indices = raw.split(',').map((x) => (/^\d+$/.test(x.trim()) ? Number(x) : NaN));
  if (indices.some((i) => !Number.isSafeInteger(i))) throw new UsageError(`--freeze takes layer indices separated by commas (0,3), got '${raw}'`);
  try {
    const frozen = freezeLayers(layers, indices);
    architecture(frozen, defaultInputShape(frozen));
    return frozen;
  } catch (e) {
    throw new UsageError(`--freeze: ${(e as Error).message}`);
  }
}

/** The data split a checkpoint records, or a UsageError naming the file and what is wrong with it. */
function checkpointSplit(text: string, file: string): SplitOptions {
  let split: unknown;
  try {
    split = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: metadata split is not JSON (${(e as Error).message})`);
  }
  const s = split as Partial<Record<keyof SplitOptions, unknown>> | null;
  const count = (x: unknown) => x === undefined || (Number.isInteger(x) && (x as number) >= 0);
  if (typeof s !== 'object' || s === null || Array.isArray(s) || !count(s.validationSize) || !count(s.limit) || !count(s.randomSplitSeed)) {
    throw new UsageError(`${file}: metadata split must be an object of non-negative integers (validationSize, limit, randomSplitSeed), got ${text}`);
  }
  return s as SplitOptions;
}

export async function main(): Promise<void> {
  const flags = parseFlags({
    ...RECIPE_FLAGS, 'random-split': { type: 'boolean' }, data: { type: 'string' }, adapter: { type: 'string' }, loss: { type: 'string' },
    json: { type: 'string' }, save: { type: 'string' }, autotune: { type: 'boolean' },
    'no-robustness': { type: 'boolean' }, 'steps-per-submit': { type: 'string' }, checkpoint: { type: 'string' }, 'checkpoint-every': { type: 'string' }, resume: { type: 'string' },
    weights: { type: 'string' }, freeze: { type: 'string' }, summary: { type: 'boolean' },
    ...PRECISION_FLAG, ...CSV_FLAGS,
  });
  const precision = precisionFlag(flags.precision);
  // A table's held-out sizes may be fractions: its own flags read them (tableData.ts).
  const csvPath = isCsvPath(flags.data) ? flags.data : undefined;
  const csvOptions = csvColumns(flags);
  const recipe = parseRecipe(csvPath ? { ...flags, 'validation-size': undefined } : flags);
  const { epochs, batchSize, seed, optimizer, sizes, progressEvery } = recipe;
  let { schedule, labelSmoothing, maxNorm, augment } = recipe;
  const adapterChoice = choiceFlag('adapter', flags.adapter, ADAPTER_CHOICES, 'auto');
  const dataDir = flags.data ?? defaultMnistDir();
  const loss = choiceFlag('loss', flags.loss, LOSSES, 'cross-entropy');
  // The loss and the data's answers must agree: class labels (MNIST, --label-column) or float targets (--target-columns).
  const floatTargets = csvOptions.targetColumns !== undefined;
  if (takesTargets(loss) && !floatTargets) {
    throw new UsageError(`--loss ${loss} needs float targets; ${csvPath ? `--label-column gives class labels: give --target-columns` : 'MNIST has class labels: give --data FILE.csv with --target-columns'}`);
  }
  if (!takesTargets(loss) && floatTargets) throw new UsageError(`--target-columns gives float targets: train them with --loss mse (values) or --loss bce (yes/no labels)`);
  if (takesTargets(loss) && flags['label-smoothing'] !== undefined) throw new UsageError(`--label-smoothing is for --loss cross-entropy, not ${loss}`);
  const checkpointEvery = intFlag('checkpoint-every', flags['checkpoint-every'], 1);
  // Unset: the adapter's default (four on GPUs, one on software adapters).
  const stepsPerSubmit = flags['steps-per-submit'] === undefined ? undefined : intFlag('steps-per-submit', flags['steps-per-submit'], 1);
  if (flags['checkpoint-every'] !== undefined && !flags.checkpoint) throw new UsageError('--checkpoint-every needs --checkpoint FILE');
  // The run continues the checkpoint's recipe: flags that would change it are refused, not ignored.
  const kept = ['hidden', 'layers', 'dropout', 'lr', 'batch-size', 'optimizer', 'momentum', 'weight-decay', 'seed', 'pixels', 'schedule', 'label-smoothing', 'max-norm', 'augment', 'freeze', 'weights', 'loss'] as const;
  const ignored = kept.filter((f) => flags[f] !== undefined);
  if (flags.resume && ignored.length) throw new UsageError(`--resume continues ${flags.resume}'s recipe; drop ${ignored.map((f) => `--${f}`).join(', ')}`);
  const layers = frozenLayersFlag(flags.freeze, recipe.layers);
  // Read and decoded before the GPU opens: a file that is not safetensors is refused now.
  const weights = flags.weights === undefined ? undefined : decodeSafetensors(readFileChecked(flags.weights), flags.weights);
  // Every output is checked before the GPU opens, not after an hour of training.
  checkOutputs({ save: flags.save, json: flags.json, checkpoint: flags.checkpoint }, { resume: flags.resume }, [['checkpoint', 'resume']]);
  if (flags.checkpoint) lockOutput(flags.checkpoint, 'checkpoint');
  const mnistOnly = (['resume', 'random-split', 'pixels', 'augment'] as const).filter((f) => flags[f] !== undefined);
  if (csvPath && mnistOnly.length) {
    throw new UsageError(mnistOnly[0] === 'resume' ? `--resume continues MNIST runs; a table (--data ${csvPath}) trains from the start` : `--${mnistOnly[0]} is for MNIST's images, not a table (--data ${csvPath})`);
  }
  // The table is read, split and checked against the layers before the GPU opens.
  const table = csvPath ? loadTable(flags, csvOptions, layers, flags.layers !== undefined, seed, recipe.limit) : undefined;

  const deviceOptions = { disableRobustness: flags['no-robustness'], halfPrecision: precision === 'f16' };
  let gpu = await openNodeDevice(adapterChoice, deviceOptions);
  requirePrecision(precision, gpu);
  const reporter = new TrainReporter();
  reporter.adapter(gpu.adapterInfo, gpu.driverNote + precisionNote(precision));

  const chooseVariants = async (forModel: Architecture) =>
    variantsForPrecision(precision, gpu, flags.autotune
      ? await autotuneVariants(gpu.device, { architecture: forModel, batchSizes: [batchSize], adapter: gpu.adapterInfo, store: fileTuneStore(), log: (l) => console.log(l) })
      : defaultVariantsFor(gpu.adapterInfo));
  let split: SplitOptions = { validationSize: recipe.validationSize, randomSplitSeed: flags['random-split'] ? seed : undefined, limit: recipe.limit };
  let model: Model;
  let batch = batchSize;
  let fitOptimizer = optimizer;
  let runSeed = seed;
  if (flags.resume) {
    const file = readModelFile(flags.resume);
    const opened = openModelFile(gpu.device, file, await chooseVariants(architectureOf(file.options)));
    model = opened.model;
    if (takesTargets(model.loss)) throw new UsageError(`${flags.resume} holds a '${model.loss}' model, which needs float targets; MNIST has class labels: give --data FILE.csv with --target-columns`);
    // The run continues on the checkpoint's data split and seed; flags that would change them are refused.
    if (opened.metadata.split) {
      const saved = checkpointSplit(opened.metadata.split, flags.resume);
      const asked = flags['validation-size'] !== undefined || flags['random-split'] || flags.limit !== undefined;
      if (asked && JSON.stringify(saved) !== JSON.stringify(split)) {
        throw new UsageError(`${flags.resume} was trained on split ${opened.metadata.split}; resume keeps it, so drop --validation-size/--random-split/--limit`);
      }
      split = saved;
    }
    if (opened.metadata.seed !== undefined) runSeed = Number(opened.metadata.seed);
    // A full checkpoint's recipe is the run's; a weights file's only says how it was trained.
    const full = opened.metadata.full_checkpoint === 'true';
    if (full && model.recipe) ({ batchSize: batch, optimizer: fitOptimizer, schedule, labelSmoothing = 0, maxNorm, augment } = model.recipe);
    console.log(`resume: ${flags.resume} at epoch ${model.epochs}, optimizer step ${model.step}` +
      (full && model.recipe ? ` (its batch size, optimizer and data split are kept)` : ' (weights only: the optimizer starts fresh)'));
    if (model.epochs >= epochs) throw new UsageError(`${flags.resume} has ${counted(model.epochs, 'epoch')} done; ask for more with --epochs`);
  } else {
    const input = { ...(table?.model ?? { layers, pixelMean: recipe.pixelMean, pixelStd: recipe.pixelStd }), loss };
    model = new Model(gpu.device, { ...input, seed, variants: await chooseVariants(architectureOf(input)) });
    if (weights) {
      // By tensor name and shape (PyTorch's load_state_dict(strict=False)): a new head starts from its initialization.
      const report = await model.loadWeights(weights, { strict: false, source: flags.weights });
      const list = (names: string[]) => (names.length ? names.join(', ') : 'none');
      console.log(`weights: ${flags.weights}: loaded ${list(report.loaded)}; skipped ${list(report.skipped.map((s) => `${s.name} (${s.reason})`))}; new ${list(report.missing)}`);
    }
  }
  if (flags.summary) console.log(model.summary());
  const splits: { train: AnyDataset; validation: AnyDataset; test: AnyDataset } = table?.splits ?? splitMnist(loadMnist(dataDir), split);
  if (splits.test.count === 0) throw new UsageError(`${dataDir}: the test set is empty; nothing to report an accuracy on`);
  // The test set is checked against the model now, not after an hour of training.
  checkDataset(splits.test, model.architecture.inputs, model.classes, model.input, model.loss);
  const runMetadata: Record<string, string> = table?.metadata ?? { split: JSON.stringify(split), seed: String(runSeed) };
  reporter.describe({
    sizes: linearWidths(model.architecture), layers: model.architecture.text, name: model.architecture.name, parameters: model.parameterCount, optimizer: fitOptimizer, batchSize: batch, epochs, seed: runSeed,
    pixelMean: model.pixelNormalization.mean, pixelStd: model.pixelNormalization.std,
    extras: [...(model.loss === 'cross-entropy' ? [] : [`loss ${model.loss}`]), ...recipeExtras({ schedule, labelSmoothing, patience: recipe.patience, maxNorm, augment })],
    train: splits.train.count, validation: splits.validation.count, test: splits.test.count, dataSource: table?.source ?? dataDir,
    ...(table && { inputs: 'f32 features standardized by the training rows' }),
  });

  const started = performance.now();
  // A lost device ends the run, unless it writes checkpoints: then it goes on from the last one on a new device.
  const history = await withDeviceRecovery({ checkpoint: flags.checkpoint, log: (l) => console.log(l) }, async (fromCheckpoint) => {
    if (fromCheckpoint) {
      gpu.destroy();
      gpu = await openNodeDevice(adapterChoice, deviceOptions);
      model = openModelFile(gpu.device, flags.checkpoint!, variantsForPrecision(precision, gpu, defaultVariantsFor(gpu.adapterInfo))).model;
      console.log(`resume: ${flags.checkpoint} at epoch ${model.epochs}, on ${formatAdapter(gpu.adapterInfo)}`);
    }
    return model.fit(splits.train, {
      epochs: epochs - model.epochs, batchSize: batch, optimizer: fitOptimizer, progressEvery, stepsPerSubmit,
      schedule, labelSmoothing, patience: recipe.patience, maxNorm, augment, onNote: (line) => console.log(line),
      validation: splits.validation.count > 0 ? splits.validation : undefined,
      onStep: (s) => reporter.step(s),
      onEpoch: async (e) => {
        reporter.epoch(e);
        if (flags.checkpoint && (e.epoch % checkpointEvery === 0 || e.epoch === epochs)) {
          await saveModelFile(model, flags.checkpoint, { full: true, metadata: runMetadata });
          console.log(`checkpoint: ${flags.checkpoint} (epoch ${e.epoch})`);
        }
      },
    });
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const bestEpoch = history.filter((e) => e.best).at(-1);
  if (recipe.patience !== undefined && bestEpoch) console.log(`restored the weights of epoch ${bestEpoch.epoch} (best validation accuracy ${pct(bestEpoch.validation!.accuracy)})`);
  const test = await model.evaluate(splits.test);
  reporter.test(test, trainSeconds);

  if (flags.save) {
    await saveModelFile(model, flags.save, { metadata: { ...runMetadata, test_accuracy: String(test.accuracy) } });
    console.log(`saved: ${flags.save} (PyTorch nn.Sequential state dict, safetensors)`);
  }
  if (flags.json) {
    const config = { sizes: linearWidths(model.architecture), layers: model.architecture.text, loss: model.loss, maxNorm: maxNorm ?? null, epochs, batchSize: batch, optimizer: model.recipe!.optimizer, schedule: schedule ?? null, labelSmoothing, augment: augment ? formatAugmentation(augment) : null, patience: recipe.patience ?? null, resume: flags.resume ?? null, seed: runSeed,
      limit: flags.limit ? Number(flags.limit) : null, validationSize: splits.validation.count, randomSplit: Boolean(flags['random-split']), pixels: recipe.pixels, data: dataDir };
    const result = reporter.results(config, { ...gpu.adapterInfo, driver: gpu.driverNote }, test, trainSeconds);
    writeFileAtomic(flags.json, JSON.stringify(result, null, 2) + '\n', 'json');
    console.log(`results: ${flags.json}`);
  }
  model.dispose();
  gpu.destroy();
}

runIfEntry(import.meta.url, 'train', main, USAGE);
