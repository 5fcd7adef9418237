// train/evaluate --data FILE.csv: a table of f32 features with a label column or target columns, split seeded
// into train/validation/test, features standardized by the training rows' mean and std (recorded in saved
// models' metadata, so evaluate applies the same). MNIST's path (--data DIR) is left as it is.
import { architecture } from '../layers/architecture.js';
import type { LayerSpec } from '../layers/index.js';
import type { CsvDataset, CsvOptions } from '../data/csv.js';
import { sliceDataset, type FloatDataset } from '../data/dataset.js';
import { splitDataset } from '../data/split.js';
import { featureStandardization, standardizeFeatures, type FeatureStandardization } from '../data/standardize.js';
import { readCsvDataset } from '../node/dataFiles.js';
import { UsageError } from './args.js';

/** The flags that choose a CSV file's columns and its test split. */
export const CSV_FLAGS = {
  'label-column': { type: 'string' }, 'target-columns': { type: 'string' }, features: { type: 'string' }, 'test-size': { type: 'string' },
} as const;

type CsvFlags = Partial<Record<keyof typeof CSV_FLAGS | 'data' | 'validation-size' | 'limit', string>>;

/** --data names a CSV file (by its extension) rather than a folder of MNIST's IDX files. */
export const isCsvPath = (path: string | undefined): path is string => path !== undefined && /\.csv$/i.test(path);

const list = (raw: string) => raw.split(',').map((c) => c.trim()).filter((c) => c !== '');

/** The columns --label-column / --target-columns / --features name; a UsageError when they are not for a CSV. */
export function csvColumns(flags: CsvFlags): CsvOptions {
  const given = (['label-column', 'target-columns', 'features', 'test-size'] as const).filter((f) => flags[f] !== undefined);
  if (!isCsvPath(flags.data)) {
    if (given.length) throw new UsageError(`--${given[0]} is for a table: give --data FILE.csv`);
    return {};
  }
  const label = flags['label-column'];
  const targets = flags['target-columns'];
  if ((label === undefined) === (targets === undefined)) {
    throw new UsageError(`--data ${flags.data}: give --label-column NAME (classes) or --target-columns A,B,… (float targets)${label !== undefined ? ', not both' : ''}`);
  }
  return {
    ...(label !== undefined ? { labelColumn: label } : { targetColumns: list(targets!) }),
    ...(flags.features !== undefined && { features: list(flags.features) }),
  };
}

/** A held-out size: a fraction in [0, 1) of the rows or a count (an integer ≥ 0). */
export function sizeFlag(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = /^(\d+|\d*\.\d+)$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!(value >= 0 && (value < 1 || Number.isInteger(value)))) throw new UsageError(`--${name} must be a fraction in [0, 1) or a count of rows, got '${raw}'`);
  return value;
}

/** A table read, split and standardized, with the model input and layers it needs. */
export interface TableRun {
  /** The whole file as read (its column names, classes or targets). */
  data: CsvDataset;
  /** Standardized with the training rows' mean and std. */
  splits: { train: FloatDataset; validation: FloatDataset; test: FloatDataset };
  /** The model's input and layers: f32 rows of the feature count, the last layer as wide as the classes or targets. */
  model: { layers: LayerSpec[]; inputs: number; input: 'f32' };
  standardization: FeatureStandardization;
  /** The data in words, for the run's description. */
  source: string;
  /** What a saved model records about its data: the file, split, columns and standardization. */
  metadata: Record<string, string>;
}

/** The output width a table asks of the model: its classes, or its target columns. */
const outputsOf = (data: CsvDataset) => data.targets?.width ?? data.classes!;

/** Describes the table's columns in a line: features, then the label and its classes or the targets. */
function describeColumns(path: string, data: CsvDataset): string {
  const what = data.targets
    ? `targets ${data.targetNames!.join(', ')}`
    : `${data.classes} classes${data.classNames ? ` (${data.classNames.join(', ')})` : ''}`;
  return `${path}: ${data.features} features, ${what}`;
}

/**
 * Reads and splits the table before the GPU opens: `layers` from --layers are kept (their last width must fit
 * the table), the MLP from --hidden gets the table's output width in place of MNIST's 10.
 */
export function loadTable(flags: CsvFlags, columns: CsvOptions, layers: LayerSpec[], layersGiven: boolean, seed: number, limit?: number): TableRun {
  const path = flags.data!;
  const data = readCsvDataset(path, columns);
  const validation = sizeFlag('validation-size', flags['validation-size'], 0.1);
  const test = sizeFlag('test-size', flags['test-size'], 0.2);
  const parts = splitDataset(data, { validation, test, seed });
  if (parts.test.count === 0) throw new UsageError(`--data ${path}: the test split is empty (${data.count} rows); give --test-size`);
  const train = limit === undefined ? parts.train : sliceDataset(parts.train, 0, Math.min(limit, parts.train.count));
  const standardization = featureStandardization(train);
  const standardized = (d: FloatDataset) => standardizeFeatures(d, standardization);
  const outputs = outputsOf(data);
  const last = layers[layers.length - 1];
  const modelLayers = layersGiven ? layers : [...layers.slice(0, -1), { ...last, outputs } as LayerSpec];
  const placed = (() => {
    try {
      return architecture(modelLayers, [data.features], data.targets ? 1 : 2);
    } catch (e) {
      throw new UsageError(`--${layersGiven ? 'layers' : 'hidden'} on ${path}'s ${data.features} features: ${(e as Error).message}`);
    }
  })();
  if (placed.classes !== outputs) {
    throw new UsageError(`--layers ends in ${placed.classes} outputs, ${path} needs ${outputs} (its ${data.targets ? 'target columns' : 'classes'})`);
  }
  return {
    data,
    splits: { train: standardized(train), validation: standardized(parts.validation), test: standardized(parts.test) },
    model: { layers: modelLayers, inputs: data.features, input: 'f32' },
    standardization,
    source: describeColumns(path, data),
    metadata: {
      data: path,
      csv_split: JSON.stringify({ validation, test, seed, ...(limit !== undefined && { limit }) }),
      seed: String(seed),
      ...tableMetadata(data, standardization),
    },
  };
}

/** The columns and standardization a model trained on a table needs to read it again. */
function tableMetadata(data: CsvDataset, s: FeatureStandardization): Record<string, string> {
  return {
    feature_columns: JSON.stringify(data.featureNames),
    feature_mean: JSON.stringify(Array.from(s.mean)),
    feature_std: JSON.stringify(Array.from(s.std)),
    ...(data.classNames && { class_names: JSON.stringify(data.classNames) }),
    ...(data.targetNames && { target_columns: JSON.stringify(data.targetNames) }),
    ...(data.labelName !== undefined && { label_column: JSON.stringify(data.labelName) }),
  };
}

/**
 * A table for evaluate: every row, standardized as the model's metadata says (feature_mean, feature_std, written
 * by train --data FILE.csv), its feature, label and target columns by default those the model was trained on.
 */
export function tableForEvaluation(flags: CsvFlags, metadata: Record<string, string>): { test: FloatDataset; source: string } {
  // Without --label-column or --target-columns, the columns the model was trained on.
  const chosen = flags['label-column'] !== undefined || flags['target-columns'] !== undefined;
  const recordedTargets = !chosen && metadata.target_columns ? { 'target-columns': (JSON.parse(metadata.target_columns) as string[]).join(',') } : {};
  const recordedLabel = !chosen && metadata.label_column ? { 'label-column': JSON.parse(metadata.label_column) as string } : {};
  const columns = csvColumns({ ...flags, ...recordedTargets, ...recordedLabel });
  const recorded = metadata.feature_columns ? (JSON.parse(metadata.feature_columns) as string[]) : undefined;
  const data = readCsvDataset(flags.data!, { ...columns, ...(!columns.features && recorded && { features: recorded }) });
  let test: FloatDataset = data;
  // Class names map to the indices the model was trained with, not to this file's own sorted order.
  const trainedClasses = metadata.class_names ? (JSON.parse(metadata.class_names) as string[]) : undefined;
  if (trainedClasses && data.classNames) {
    const unknown = data.classNames.find((c) => !trainedClasses.includes(c));
    if (unknown !== undefined) throw new UsageError(`${flags.data}: class ${JSON.stringify(unknown)} is not one the model was trained on (${trainedClasses.join(', ')})`);
    test = { ...data, labels: Uint32Array.from(data.labels, (l) => trainedClasses.indexOf(data.classNames![l])) };
  }
  if (metadata.feature_mean && metadata.feature_std) {
    const standardization = { mean: Float64Array.from(JSON.parse(metadata.feature_mean)), std: Float64Array.from(JSON.parse(metadata.feature_std)) };
    test = standardizeFeatures(test, standardization);
  }
  const note = metadata.feature_mean ? 'standardized as in training' : 'as they are (the model records no standardization)';
  return { test, source: `${describeColumns(flags.data!, data)}, features ${note}` };
}
