// `npm run docs` builds the API reference with TypeDoc from the declarations and their doc comments. An exported
// symbol (or a member of an exported type) without a doc comment, or a type the API refers to that the reference
// leaves out, is a validation error that fails this test; the main entry points carry an example.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The doc comment right before the first line of `file` that `declaration` matches ('' when there is none). */
function docCommentBefore(file: string, declaration: RegExp): string {
  const text = readFileSync(file, 'utf8');
  const at = text.search(declaration);
  expect(at, `${file}: no declaration matches ${declaration}`).toBeGreaterThan(0);
  const before = text.slice(0, at).trimEnd();
  return before.endsWith('*/') ? before.slice(before.lastIndexOf('/**')) : '';
}

describe('the API reference', () => {
  it('TypeDoc validates every export as documented, with every type it refers to included', () => {
    const run = spawnSync(process.execPath, ['node_modules/typedoc/bin/typedoc', '--emit', 'none'], { encoding: 'utf8', timeout: 170_000 });
    const output = run.stdout + run.stderr;
    const undocumented = output.split('\n').filter((l) => l.includes('does not have any documentation'));
    expect(undocumented).toEqual([]);
    const missing = output.split('\n').filter((l) => l.includes('not included in the documentation'));
    expect(missing).toEqual([]);
    expect(run.status, output).toBe(0);
  });

  it('the main entry points carry an @example', () => {
    const entries: [string, RegExp][] = [
      ['src/engine/model.ts', /^export class Model\b/m],
      ['src/engine/model.ts', /^ {2}async fit\(/m],
      ['src/engine/model.ts', /^ {2}async evaluate\(/m],
      ['src/engine/model.ts', /^ {2}async predict\(/m],
      ['src/engine/model.ts', /^ {2}async toSafetensors\(/m],
      ['src/engine/model.ts', /^ {2}static fromSafetensors\(/m],
      ['src/engine/model.ts', /^ {2}async toOnnx\(/m],
      ['src/node/gpu.ts', /^export async function openNodeDevice\(/m],
    ];
    for (const [file, declaration] of entries) expect(docCommentBefore(file, declaration), `${file} ${declaration}`).toContain('@example');
  });

  it('LayerSpec reads as a union of named specs, one per layer kind', () => {
    const text = readFileSync('src/layers/index.ts', 'utf8');
    const union = /export type LayerSpec =([^;]+);/.exec(text)?.[1] ?? '';
    const kinds = /export const LAYER_MODULES = \{([\s\S]*?)\} as const/.exec(text)?.[1].match(/^ {2}(\w+),$/gm)?.map((l) => l.trim().slice(0, -1)) ?? [];
    expect(kinds.length).toBeGreaterThanOrEqual(10);
    for (const kind of kinds) expect(union, kind).toMatch(new RegExp(`\\b(${kind}Spec|ActivationSpec<'${kind}'[,>])`, 'i'));
  });
});
