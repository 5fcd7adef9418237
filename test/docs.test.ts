// `npm run docs` builds the API reference with TypeDoc from the declarations and their doc comments; an exported
// symbol (or a member of an exported type) without a doc comment is a validation error that fails this test.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('the API reference', () => {
  it('TypeDoc validates every export as documented', () => {
    const run = spawnSync(process.execPath, ['node_modules/typedoc/bin/typedoc', '--emit', 'none'], { encoding: 'utf8', timeout: 170_000 });
    const output = run.stdout + run.stderr;
    const undocumented = output.split('\n').filter((l) => l.includes('does not have any documentation'));
    expect(undocumented).toEqual([]);
    expect(run.status, output).toBe(0);
  });
});
