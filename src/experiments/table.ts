// A sweep's results as a ranked table: best validation accuracy first (ties: lower validation loss), runs
// that diverged or stopped last. The same rows as text, CSV and JSON.
import { experimentName, type ExperimentConfig } from './config.js';
import type { ExperimentResult } from './run.js';

export const RESULT_COLUMNS = ['rank', 'configuration', 'best epoch', 'val acc', 'val loss', 'test acc', 'parameters', 'seconds', 'samples/s', 'status'] as const;

/** The results, best first: highest validation accuracy (ties: lower validation loss), runs not 'ok' last. */
export function rankResults(results: ExperimentResult[]): ExperimentResult[] {
  const score = (r: ExperimentResult) => (r.status === 'ok' && Number.isFinite(r.validationAccuracy) ? r.validationAccuracy : -1);
  return [...results].sort((a, b) => score(b) - score(a) || a.validationLoss - b.validationLoss);
}

const percent = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : '—');

/** Table cells, one row per result, in ranked order. */
export function resultRows(results: ExperimentResult[]): string[][] {
  return rankResults(results).map((r, i) => [
    String(i + 1), experimentName(r.config), String(r.bestEpoch || '—'), percent(r.validationAccuracy),
    Number.isFinite(r.validationLoss) ? r.validationLoss.toFixed(4) : '—', percent(r.testAccuracy),
    r.parameters.toLocaleString('en-US'), r.seconds.toFixed(1), Math.round(r.samplesPerSecond).toLocaleString('en-US'),
    r.status === 'ok' ? 'ok' : `${r.status}: ${r.detail}`,
  ]);
}

const CSV_FIELDS: (keyof ExperimentConfig)[] = ['hidden', 'layers', 'dropout', 'lr', 'batchSize', 'optimizer', 'weightDecay', 'schedule', 'labelSmoothing', 'maxNorm', 'augment', 'epochs', 'seed'];

const csvCell = (x: unknown) => {
  const s = x === undefined || (typeof x === 'number' && !Number.isFinite(x)) ? '' : String(x);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One line per result, ranked; accuracies as fractions, every config field in its own column. */
export function resultsCsv(results: ExperimentResult[]): string {
  const header = ['rank', ...CSV_FIELDS, 'status', 'detail', 'bestEpoch', 'validationAccuracy', 'validationLoss', 'testAccuracy', 'parameters', 'seconds', 'samplesPerSecond'];
  const lines = rankResults(results).map((r, i) => [
    i + 1, ...CSV_FIELDS.map((f) => r.config[f]), r.status, r.detail, r.bestEpoch, r.validationAccuracy, r.validationLoss, r.testAccuracy,
    r.parameters, r.seconds.toFixed(3), r.samplesPerSecond.toFixed(1),
  ].map(csvCell).join(','));
  return [header.join(','), ...lines].join('\n') + '\n';
}

/** The configs (a plan file that repeats the sweep) and the results, ranked, with their epoch curves. */
export function resultsJson(results: ExperimentResult[], extra: Record<string, unknown> = {}): string {
  const ranked = rankResults(results);
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return JSON.stringify({
    ...extra,
    configs: results.map((r) => r.config),
    results: ranked.map((r) => ({
      ...r, validationAccuracy: finite(r.validationAccuracy), validationLoss: finite(r.validationLoss), testAccuracy: finite(r.testAccuracy),
      epochs: r.epochs.map((e) => ({ epoch: e.epoch, trainLoss: finite(e.trainLoss), trainAccuracy: e.trainAccuracy, validation: e.validation, best: e.best ?? false, seconds: e.seconds })),
    })),
  }, null, 2) + '\n';
}
