// Sweeps: the combinations and draws, plan files, the ranking, and `npm run sweep` end to end on a tiny split
// (a run that diverges is reported in its row and the sweep goes on; the same plan gives the same table).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/data/safetensors.js';
import { checkExperiment, DEFAULT_EXPERIMENT, experimentName, planConfigs, sampleConfigs, sweepConfigs, type ExperimentConfig } from '../src/experiments/config.js';
import type { ExperimentResult } from '../src/experiments/run.js';
import { rankResults, resultsCsv } from '../src/experiments/table.js';

describe('sweep plans', () => {
  it('every combination, the last axis varying fastest; K of them drawn reproducibly', () => {
    const configs = sweepConfigs(DEFAULT_EXPERIMENT, { hidden: ['256', '500x300'], lr: [1e-3, 3e-4], schedule: ['constant', 'cosine:warmup=1'], labelSmoothing: [0, 0.1] });
    expect(configs).toHaveLength(16);
    expect(configs.slice(0, 3).map((c) => [c.hidden, c.lr, c.schedule, c.labelSmoothing])).toEqual([
      ['256', 1e-3, 'constant', 0], ['256', 1e-3, 'constant', 0.1], ['256', 1e-3, 'cosine:warmup=1', 0],
    ]);
    const drawn = sampleConfigs(configs, 5, 7);
    expect(drawn).toHaveLength(5);
    expect(sampleConfigs(configs, 5, 7)).toEqual(drawn);
    expect(sampleConfigs(configs, 5, 8)).not.toEqual(drawn);
    for (const c of drawn) expect(configs).toContainEqual(c);
  });

  it('refuses bad experiments by field, and plan files with unknown fields', () => {
    expect(() => checkExperiment({ ...DEFAULT_EXPERIMENT, hidden: '500xx3' })).toThrow(/joined by 'x'.*'500xx3'/);
    expect(() => checkExperiment({ ...DEFAULT_EXPERIMENT, lr: -1 })).toThrow(/experiment lr must be a positive number, got -1/);
    expect(() => checkExperiment({ ...DEFAULT_EXPERIMENT, schedule: 'cosine:warm=2' })).toThrow(/'warm=2'/);
    expect(() => planConfigs([{ lr: 1e-3, hiden: '20' }], DEFAULT_EXPERIMENT, 'p.json')).toThrow(/p\.json: experiment 0 has unknown field hiden/);
    expect(() => planConfigs({}, DEFAULT_EXPERIMENT, 'p.json')).toThrow(/p\.json: expected a non-empty list/);
    expect(() => planConfigs([{ hidden: 500 }], DEFAULT_EXPERIMENT, 'p.json')).toThrow(/^p\.json: experiment 0: experiment hidden must be a string of widths \('500x300'\), got 500$/);
    expect(planConfigs({ configs: [{ layers: 'linear:20,relu,dropout:0.1,linear:10' }] }, DEFAULT_EXPERIMENT, 'p.json')[0].layers).toBe('linear:20,relu,dropout:0.1,linear:10');
  });

  it('augmentation is an axis (none is a run without it), a name part and a CSV column; bad ranges are refused by field', () => {
    const configs = sweepConfigs(DEFAULT_EXPERIMENT, { augment: [undefined, 'shift=2, rotate=10'] });
    expect(configs.map((c) => c.augment)).toEqual([undefined, 'rotate=10,shift=2']);
    expect(experimentName(configs[1])).toBe('500 adam lr=0.001 b128 constant augment rotate=10,shift=2');
    expect(() => planConfigs([{ augment: 'rotate=400' }], DEFAULT_EXPERIMENT, 'p.json')).toThrow(/p\.json: experiment 0: experiment augment: rotate must be a number in \[0, 180\] degrees, got 400/);
    const row = (config: ExperimentConfig): ExperimentResult => ({ config, status: 'ok', bestEpoch: 1, validationAccuracy: 0.9, validationLoss: 0.3, testAccuracy: 0.9, parameters: 1, epochs: [], seconds: 1, samplesPerSecond: 1 });
    const csv = resultsCsv([row(configs[1])]).trim().split('\n');
    expect(csv[0]).toMatch(/,maxNorm,augment,epochs,/);
    expect(csv[1]).toMatch(/,constant,0,,"rotate=10,shift=2",10,0,ok,/);
  });

  it('ranks by validation accuracy, then validation loss; runs that diverged go last', () => {
    const result = (lr: number, status: ExperimentResult['status'], accuracy: number, loss: number): ExperimentResult => ({
      config: { ...DEFAULT_EXPERIMENT, lr }, status, bestEpoch: 1, validationAccuracy: accuracy, validationLoss: loss, testAccuracy: accuracy,
      parameters: 1, epochs: [], seconds: 1, samplesPerSecond: 1, detail: status === 'ok' ? undefined : 'loss NaN',
    });
    const ranked = rankResults([result(1, 'diverged', NaN, NaN), result(2, 'ok', 0.9, 0.3), result(3, 'ok', 0.95, 0.2), result(4, 'ok', 0.95, 0.1)]);
    expect(ranked.map((r) => r.config.lr)).toEqual([4, 3, 2, 1]);
    const csv = resultsCsv(ranked).trim().split('\n');
    expect(csv[0]).toMatch(/^rank,hidden,layers,dropout,lr,/);
    expect(csv[4]).toMatch(/^4,500,,0,1,128,adam,,constant,0,,,10,0,diverged,loss NaN,1,,,,/);
  });
});

describe('npm run sweep', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-'));
  const tsx = join('node_modules', '.bin', 'tsx');
  const sweep = (args: string[]) => spawnSync(tsx, ['src/cli/sweep.ts', '--limit', '300', '--validation-size', '200', '--epochs', '1', ...args], { encoding: 'utf8', timeout: 300_000 });

  it('trains each configuration, reports a diverged run in its row, writes the table as CSV and JSON, and saves the best', () => {
    // SGD at lr 1e30 overflows to infinite logits in its first steps: a NaN loss.
    const r = sweep(['--hidden', '16', '--optimizer', 'sgd', '--lr', '0.05,1e30', '--batch-size', '50', '--out', join(dir, 'a'), '--save-best', join(dir, 'best.safetensors')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sweep: 2 runs, 300 train \/ 200 validation \/ 10,000 test/m);
    expect(r.stdout).toMatch(/^run 1\/2: 16 sgd lr=0\.05 b50 constant$/m);
    expect(r.stdout).toMatch(/^run 2\/2: 16 sgd lr=1e\+30 b50 constant$/m);
    expect(r.stdout).toMatch(/^ {2}diverged: loss (NaN|Infinity) at epoch 1, step \d+$/m);
    expect(r.stdout).toMatch(/^1 +16 sgd lr=0\.05 b50 constant +1 +\d+\.\d\d% .* ok$/m);
    expect(r.stdout).toMatch(/^2 +16 sgd lr=1e\+30 b50 constant .* diverged: loss/m);
    const csv = readFileSync(join(dir, 'a', 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[2]).toMatch(/,diverged,/);
    const json = JSON.parse(readFileSync(join(dir, 'a', 'results.json'), 'utf8'));
    expect(json.configs).toHaveLength(2);
    expect(json.results[0].epochs[0].validation.count).toBe(200);
    const best = decodeSafetensors(readFileSync(join(dir, 'best.safetensors')), 'best');
    expect(JSON.parse(best.metadata.experiment).lr).toBe(0.05);
    expect(best.metadata.layers).toBe('linear:16,relu,linear:10');

    // The same plan (the results file lists it) gives the same table, timings aside.
    const again = sweep(['--plan', join(dir, 'a', 'results.json'), '--out', join(dir, 'b')]);
    expect(again.status, again.stderr).toBe(0);
    const repeat = JSON.parse(readFileSync(join(dir, 'b', 'results.json'), 'utf8'));
    const table = (j: { results: ExperimentResult[] }) => j.results.map((x) => [x.config, x.status, x.bestEpoch, x.validationAccuracy, x.validationLoss, x.testAccuracy]);
    expect(table(repeat)).toEqual(table(json));
  });

  it('refuses bad axes and a plan with axes, before training', () => {
    const bad = sweep(['--lr', '1e-3,x', '--out', join(dir, 'c')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe("sweep: --lr: 'x' is not a positive number");
    const both = sweep(['--plan', 'p.json', '--lr', '1e-3', '--out', join(dir, 'c')]);
    expect(both.stderr.trim()).toBe('sweep: --plan lists the experiments itself; drop the axes given (lr)');
    expect(existsSync(join(dir, 'c', 'results.csv'))).toBe(false);
  });
});
