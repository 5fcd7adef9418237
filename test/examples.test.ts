// The runnable examples in docs/examples/, each run as a user runs it (npx tsx) on its small budget
// (EXAMPLE_BUDGET=small), its last line's figure held to a bar below the full run's.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs an example on the small budget and returns its last line's name and figure. */
function runExample(name: string): { metric: string; value: number; output: string } {
  const run = spawnSync('npx', ['tsx', `docs/examples/${name}.ts`], { env: { ...process.env, EXAMPLE_BUDGET: 'small' }, encoding: 'utf8', timeout: 280_000 });
  const output = `${run.stdout}\n${run.stderr}`;
  expect(run.status, `${name}.ts exited ${run.status} (${run.signal ?? 'no signal'}):\n${output}`).toBe(0);
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  const match = /^([\w -]+): (-?\d+(?:\.\d+)?)$/.exec(last);
  expect(match, `${name}.ts: last line '${last}' is not '<metric>: <number>'`).not.toBeNull();
  return { metric: match![1], value: Number(match![2]), output };
}

describe('examples on their small budget', () => {
  it('regression.ts (mse) ends in its test R²', () => {
    const { metric, value, output } = runExample('regression');
    expect(metric).toBe('test r2');
    expect(value, output).toBeGreaterThan(0.9);
  }, 300_000);

  it('multilabel.ts (bce) ends in its test per-label accuracy', () => {
    const { metric, value, output } = runExample('multilabel');
    expect(metric).toBe('test per-label accuracy');
    expect(value, output).toBeGreaterThan(0.9);
  }, 300_000);
});
