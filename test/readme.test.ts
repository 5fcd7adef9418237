// Every TypeScript snippet in the README is a complete program and runs here as written, with the package's
// imports pointed at this checkout's sources and shorter training (one epoch, fewer images: the substitutions
// below, each of which must still match its snippet). The Node snippets run in README order in one folder (the
// ONNX one opens the model file the saving one writes); the page snippet runs in headless Chromium under the
// README's own vite.config.ts. A snippet with no check here fails the test, so a new one gets one.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium } from '../src/node/chromium.js';
import { spawnWithStderrFile } from './helpers/stderr.js';

const root = resolve('.');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Snippet { line: number; code: string }

/** The ```ts blocks of a Markdown text, with the line each starts on. */
function tsBlocks(markdown: string): Snippet[] {
  const blocks: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    while (++i < lines.length && lines[i].trim() !== '```');
    blocks.push({ line: start, code: lines.slice(start, i).join('\n') });
  }
  return blocks;
}

/** Replaces each [from, to]; a pattern that no longer matches fails, naming the snippet. */
function substitute(s: Snippet, pairs: [string, string][]): string {
  let code = s.code;
  for (const [from, to] of pairs) {
    expect(code.includes(from), `README snippet at line ${s.line} no longer contains ${JSON.stringify(from)}`).toBe(true);
    code = code.split(from).join(to);
  }
  return code;
}

/** Imports of the package, pointed at this checkout's sources. */
const PACKAGE_IMPORTS: [string, string][] = [
  ["from 'webgpu-mlp/node'", `from '${join(root, 'src/node/index.ts')}'`],
  ["from 'webgpu-mlp/vite'", `from '${join(root, 'src/vite/index.ts')}'`],
  ["from 'webgpu-mlp'", `from '${join(root, 'src/index.ts')}'`],
];
const withSources = (code: string) => PACKAGE_IMPORTS.reduce((c, [from, to]) => c.split(from).join(to), code);

const SHORT_SPLIT = 'splitMnist(loadMnist(), { limit: 2_000, validationSize: 1_000 })';

/** What each Node snippet must print; the key picks the snippet, with the shortenings it runs under. */
const NODE_CHECKS: { key: string; shorter: [string, string][]; prints: RegExp[] }[] = [
  {
    key: "parseLayers('conv2d",
    shorter: [['splitMnist(loadMnist())', SHORT_SPLIT], ['epochs: 3', 'epochs: 1']],
    prints: [/conv2d:8:k=5.*: test accuracy [5-9]\d\.\d\d %/],
  },
  { key: 'saveModelFile(model', shorter: [], prints: [/^784 → linear:500,relu,linear:10 0\.\d+\.\d+ 397510$/m] },
  {
    key: 'new AbortController()',
    // The 20,000 images stay: an epoch of them outlasts the five seconds, so the stop lands inside the first one
    // (at 6,000, an epoch took about the five seconds and the stop could fall between two).
    shorter: [['epochs: 2, batchSize', 'epochs: 1, batchSize']],
    prints: [/stopped at step \d+, partial: true/, /^\d+ epochs, step \d+$/m],
  },
  { key: 'irisSplits(', shorter: [], prints: [/^accuracy (0\.9\d*|1), first flower /m] },
  {
    key: 'onStep: (s)',
    shorter: [['splitMnist(loadMnist())', SHORT_SPLIT], ['epochs: 3', 'epochs: 1']],
    prints: [/epoch 1: val acc 0\.[7-9]/, /^test loss 0\.\d+, accuracy 0\.[7-9]\d*, first digit \d$/m],
  },
  { key: "from 'onnxruntime-node'", shorter: [], prints: [/\[ 100, 10 \]/] },
];

const snippets = tsBlocks(readme);
const work = join(root, 'node_modules', '.cache', 'readme-snippets');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the README snippets', () => {
  it('every snippet has a check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(8);
    for (const s of snippets) {
      const checks = NODE_CHECKS.filter((c) => s.code.includes(c.key)).length
        + (s.code.includes('defineConfig(') ? 1 : 0) + (s.code.includes('openBrowserDevice()') ? 1 : 0);
      expect(checks, `README snippet at line ${s.line}`).toBe(1);
    }
  });

  it('the Node snippets run as written and print what they say', () => {
    const node = snippets.filter((s) => !s.code.includes('defineConfig(') && !s.code.includes('openBrowserDevice()'));
    expect(node).toHaveLength(NODE_CHECKS.length);
    for (const [i, s] of node.entries()) {
      const check = NODE_CHECKS.find((c) => s.code.includes(c.key))!;
      const file = join(work, `snippet-${i + 1}-line-${s.line}.ts`);
      writeFileSync(file, withSources(substitute(s, check.shorter)));
      const started = performance.now();
      const run = spawnWithStderrFile(process.execPath, ['--import', 'tsx', file], { cwd: work, timeout: 240_000 });
      console.log(`README line ${s.line} (${((performance.now() - started) / 1000).toFixed(1)} s):\n${run.stdout}`);
      expect(run.stderr, `README snippet at line ${s.line}`).toBe('');
      expect(run.status, `README snippet at line ${s.line}`).toBe(0);
      for (const p of check.prints) expect(run.stdout, `README snippet at line ${s.line}`).toMatch(p);
    }
  }, 900_000);

  it('the page snippet trains in Chromium under the README vite.config.ts', async () => {
    const config = snippets.find((s) => s.code.includes('defineConfig('))!;
    const page = snippets.find((s) => s.code.includes('openBrowserDevice()'))!;
    const dir = join(work, 'page');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vite.config.ts'), withSources(config.code));
    writeFileSync(join(dir, 'main.ts'), substitute(page, [
      ["from 'webgpu-mlp'", `from '/@fs${join(root, 'src/index.ts')}'`],
      ['{ limit: 10_000 }', '{ limit: 4_000 }'],
      ['epochs: 3', 'epochs: 1'],
    ]));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./main.ts"></script>');
    const server = await createServer({
      root: dir, configFile: join(dir, 'vite.config.ts'), logLevel: 'error',
      server: { host: '127.0.0.1', port: 0, fs: { allow: [root] } },
      optimizeDeps: { noDiscovery: true, include: [] },
    });
    await server.listen();
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const errors = collectPageErrors(tab);
      await tab.goto(`http://127.0.0.1:${(server.httpServer!.address() as { port: number }).port}/`);
      await tab.waitForFunction(() => document.body?.textContent?.startsWith('test accuracy') || document.body === null, { timeout: 300_000 });
      const text = await tab.evaluate(() => document.body.textContent);
      console.log(`README line ${page.line}: ${text}`);
      expect(text).toMatch(/^test accuracy (9\d|8\d)\.\d\d %, first digit: \d$/);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 400_000);
});
