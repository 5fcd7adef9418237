// npm run sweep -- [axes] [flags]: trains every combination of the values given (or K drawn at random, or the
// experiments of a plan file) on the same split, one after another, and ranks them by validation accuracy.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { splitMnist } from '../data/mnist.js';
import { saveCheckpoint } from '../engine/checkpoint.js';
import { OPTIMIZER_KINDS } from '../engine/optimizer.js';
import { defaultVariantsFor } from '../gpu/variants.js';
import {
  DEFAULT_EXPERIMENT, experimentName, planConfigs, sampleConfigs, sweepConfigs, type ExperimentConfig, type SweepAxes,
} from '../experiments/config.js';
import { runExperiment, type ExperimentResult } from '../experiments/run.js';
import { resultRows, resultsCsv, resultsJson, RESULT_COLUMNS } from '../experiments/table.js';
import { checkOutputs, checkWritable, readFileChecked, writeFileAtomic } from '../node/files.js';
import { ADAPTER_CHOICES, openNodeDevice } from '../node/gpu.js';
import { defaultMnistDir, loadMnist } from '../node/mnistFiles.js';
import { choiceFlag, intFlag, parseFlags, runIfEntry, UsageError } from './args.js';
import { int, TrainReporter, table } from './report.js';
import { parseAugmentation } from '../augment/spec.js';
import { counted } from './progress.js';

export const USAGE = `usage: npm run sweep -- [--hidden 256,500,800,500x300 | --layers 'LIST;LIST;...'] [--lr 1e-3,3e-4] [--batch-size 64,128]
  [--optimizer adam,adamw,sgd] [--weight-decay 0,1e-4] [--schedule constant,cosine,cosine:warmup=1]
  [--label-smoothing 0,0.1] [--dropout 0,0.2] [--max-norm 3] [--augment 'none;rotate=10,shift=2'] [--epochs 10] [--seed 0]
  [--limit N] [--validation-size 5000] [--patience P] [--trials K] [--plan plan.json]
  [--out DIR] [--save-best FILE.safetensors] [--data DIR] [--adapter auto|system|lavapipe|swiftshader]
Each axis takes comma-separated values (--layers and --augment: whole lists, separated by ';'); every combination is one
run (or --trials K of them, drawn with --seed).`;

/** Comma-separated (or `separator`-separated) values of one axis, each checked by `parse`. */
function axis<T>(name: string, raw: string | undefined, parse: (s: string) => T, separator = ','): T[] | undefined {
  if (raw === undefined) return undefined;
  return raw.split(separator).map((s) => {
    try {
      return parse(s.trim());
    } catch (e) {
      throw new UsageError(`--${name}: '${s}' ${(e as Error).message}`);
    }
  });
}

const number = (ok: (x: number) => boolean, want: string) => (s: string) => {
  const x = Number(s);
  if (s === '' || !Number.isFinite(x) || !ok(x)) throw new Error(`is not ${want}`);
  return x;
};

export async function main(): Promise<void> {
  const flags = parseFlags({
    hidden: { type: 'string' }, layers: { type: 'string' }, lr: { type: 'string' }, 'batch-size': { type: 'string' }, optimizer: { type: 'string' },
    'weight-decay': { type: 'string' }, schedule: { type: 'string' }, 'label-smoothing': { type: 'string' }, dropout: { type: 'string' },
    'max-norm': { type: 'string' }, augment: { type: 'string' }, epochs: { type: 'string' }, seed: { type: 'string' }, limit: { type: 'string' },
    'validation-size': { type: 'string' }, patience: { type: 'string' }, trials: { type: 'string' }, plan: { type: 'string' },
    out: { type: 'string' }, 'save-best': { type: 'string' }, data: { type: 'string' }, adapter: { type: 'string' },
  });
  const base: ExperimentConfig = { ...DEFAULT_EXPERIMENT, epochs: intFlag('epochs', flags.epochs, 10), seed: intFlag('seed', flags.seed, 0, 0) };
  const axes: SweepAxes = {
    hidden: axis('hidden', flags.hidden, (s) => s),
    // Layer lists hold commas themselves.
    layers: axis('layers', flags.layers, (s) => s, ';'),
    lr: axis('lr', flags.lr, number((x) => x > 0, 'a positive number')),
    batchSize: axis('batch-size', flags['batch-size'], number((x) => Number.isInteger(x) && x >= 1, 'a positive integer')),
    optimizer: axis('optimizer', flags.optimizer, (s) => choiceFlag('optimizer', s, OPTIMIZER_KINDS, 'adam')),
    weightDecay: axis('weight-decay', flags['weight-decay'], number((x) => x >= 0, 'a number ≥ 0')),
    schedule: axis('schedule', flags.schedule, (s) => s),
    labelSmoothing: axis('label-smoothing', flags['label-smoothing'], number((x) => x >= 0 && x < 1, 'in [0, 1)')),
    dropout: axis('dropout', flags.dropout, number((x) => x >= 0 && x < 1, 'in [0, 1)')),
    maxNorm: axis('max-norm', flags['max-norm'], number((x) => x > 0, 'a positive number')),
    // 'none' is a run without distortions.
    augment: axis('augment', flags.augment, (s) => (parseAugmentation(s, '') ? s : undefined), ';'),
  };
  let configs: ExperimentConfig[];
  try {
    if (flags.plan) {
      const given = Object.entries(axes).filter(([, v]) => v).map(([k]) => k);
      if (given.length) throw new UsageError(`--plan lists the experiments itself; drop the axes given (${given.join(', ')})`);
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(readFileChecked(flags.plan)));
      } catch (e) {
        throw new UsageError(`${flags.plan}: not JSON (${(e as Error).message})`);
      }
      configs = planConfigs(json, base, flags.plan);
    } else {
      configs = sweepConfigs(base, axes);
    }
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }
  const total = configs.length;
  if (flags.trials !== undefined) configs = sampleConfigs(configs, intFlag('trials', flags.trials, 1), base.seed);
  const patience = flags.patience === undefined ? undefined : intFlag('patience', flags.patience, 1);
  const outDir = flags.out ?? 'sweep';
  const split = {
    validationSize: intFlag('validation-size', flags['validation-size'], 5000, 1),
    limit: flags.limit === undefined ? undefined : intFlag('limit', flags.limit, 1),
  };
  // Every output path is checked before the first run (and before anything is written), not after hours of training.
  if (flags['save-best'] && !flags['save-best'].endsWith('.safetensors')) throw new UsageError(`--save-best: '${flags['save-best']}' must end in .safetensors`);
  checkOutputs({ 'save-best': flags['save-best'] });
  // A second sweep into the same directory would replace the first one's results without a word.
  if (existsSync(join(outDir, 'results.json'))) {
    throw new UsageError(`--out ${outDir} already holds a sweep's results; give another --out (to repeat that sweep: --plan ${join(outDir, 'results.json')} --out NEW)`);
  }
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out ${outDir}: exists and is not a directory`);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new UsageError(`--out ${outDir}: cannot be made (${(e as Error).message})`);
  }
  const planPath = join(outDir, 'plan.json');
  const csvPath = join(outDir, 'results.csv');
  const jsonPath = join(outDir, 'results.json');
  for (const path of [planPath, csvPath]) checkWritable(path, 'out');
  // --save-best inside --out as results.json would be overwritten by the next run's results.
  checkOutputs({ out: jsonPath, 'save-best': flags['save-best'] });
  writeFileAtomic(planPath, JSON.stringify({ configs }, null, 2) + '\n', 'out');

  const gpu = await openNodeDevice(choiceFlag('adapter', flags.adapter, ADAPTER_CHOICES, 'auto'));
  const dataDir = flags.data ?? defaultMnistDir();
  const splits = splitMnist(loadMnist(dataDir), split);
  console.log(`sweep: ${counted(configs.length, 'run')}${configs.length < total ? ` (${configs.length} of ${total} combinations, drawn with seed ${base.seed})` : ''}, ` +
    `${int(splits.train.count)} train / ${int(splits.validation.count)} validation / ${int(splits.test.count)} test, on ${gpu.adapterInfo.vendor} ${gpu.adapterInfo.architecture}`);

  const results: ExperimentResult[] = [];
  let best: { accuracy: number; bytes: Uint8Array } | undefined;
  for (const [k, config] of configs.entries()) {
    console.log(`run ${k + 1}/${configs.length}: ${experimentName(config)}`);
    const reporter = new TrainReporter();
    reporter.track(splits.train.count, config.epochs);
    const result = await runExperiment(gpu.device, splits, config, {
      variants: defaultVariantsFor(gpu.adapterInfo), patience,
      onStep: (s) => reporter.step(s),
      onEpoch: (e) => reporter.epoch(e),
      keep: flags['save-best']
        ? async (model, r) => {
          if (!best || r.validationAccuracy > best.accuracy) {
            best = { accuracy: r.validationAccuracy, bytes: await saveCheckpoint(model, { metadata: { experiment: JSON.stringify(config), split: JSON.stringify(split) } }) };
          }
        }
        : undefined,
    });
    results.push(result);
    console.log(result.status === 'ok'
      ? `  best epoch ${result.bestEpoch}: val acc ${(100 * result.validationAccuracy).toFixed(2)}%, test acc ${(100 * result.testAccuracy).toFixed(2)}%`
      : `  ${result.status}: ${result.detail}`);
    // Written after every run, so an interrupted sweep keeps what it measured.
    writeFileAtomic(csvPath, resultsCsv(results), 'out');
    writeFileAtomic(jsonPath, resultsJson(results, { split, adapter: gpu.adapterInfo, patience: patience ?? null }), 'out');
  }
  console.log('');
  console.log(table([...RESULT_COLUMNS], resultRows(results), 2));
  console.log(`results: ${csvPath}, ${jsonPath}`);
  if (flags['save-best']) {
    if (best) {
      writeFileAtomic(flags['save-best'], best.bytes, 'save-best');
      console.log(`best model (chosen on validation): ${flags['save-best']}`);
    } else console.log('no run finished: no best model to save');
  }
  gpu.destroy();
}

runIfEntry(import.meta.url, 'sweep', main, USAGE);
