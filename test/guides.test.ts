// Every ```ts block of the README and of docs/guides/*.md is a complete program and runs here as written, with the
// package's imports pointed at this checkout's sources. The Node blocks of one file run in order in a folder of
// their own (a block may open a file an earlier one wrote), and must exit 0 with nothing on stderr and print
// something; PRINTS holds what some of them must print. A block that calls openBrowserDevice() runs in headless
// Chromium under the vite.config.ts block (the one with defineConfig) of its file and must show its result as the
// page's text. A block that appears twice (the README repeats two of the getting-started guide's) runs once.
// The guides' blocks are written small (a few thousand images, an epoch or two); the README's two examples train
// longer as a reader would, and run here with SHORTER's substitutions, each of which must still match.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium } from '../src/node/chromium.js';
import { spawnWithStderrFile } from './helpers/stderr.js';

const root = resolve('.');
const files = ['README.md', ...readdirSync(join(root, 'docs', 'guides')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/guides/${f}`)];

interface Block { file: string; line: number; code: string }

/** The ```ts blocks of a Markdown file, with the line each starts on. */
function tsBlocks(file: string): Block[] {
  const blocks: Block[] = [];
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    while (++i < lines.length && lines[i].trim() !== '```');
    blocks.push({ file, line: start, code: lines.slice(start, i).join('\n') });
  }
  return blocks;
}

const where = (b: Block) => `${b.file} block at line ${b.line}`;
const isConfig = (b: Block) => b.code.includes('defineConfig(');
const isPage = (b: Block) => b.code.includes('openBrowserDevice(');

/** Shortened runs of the README's two examples (the getting-started guide repeats them): key → substitutions. */
const SHORTER: { key: string; pairs: [string, string][] }[] = [
  { key: 'openBrowserDevice()', pairs: [['{ limit: 10_000 }', '{ limit: 4_000 }'], ['epochs: 3', 'epochs: 1']] },
  {
    key: 'onEpoch: (e) => console.log(`epoch ${e.epoch}: val acc',
    pairs: [['splitMnist(loadMnist())', 'splitMnist(loadMnist(), { limit: 2_000, validationSize: 1_000 })'], ['epochs: 3', 'epochs: 1']],
  },
];

/** What some blocks must print, by a key the block contains; each key must match a block. */
const PRINTS: { key: string; prints: RegExp[] }[] = [
  { key: 'openBrowserDevice()', prints: [/^test accuracy (9\d|8\d)\.\d\d %, first digit: \d$/] },
  { key: 'onEpoch: (e) => console.log(`epoch ${e.epoch}: val acc', prints: [/epoch 1: val acc 0\.[7-9]/, /^test loss 0\.\d+, accuracy 0\.[7-9]\d*, first digit \d$/m] },
  { key: 'new AbortController()', prints: [/^stopped at step 10, partial: true$/m, /^2 epochs, step 42$/m] },
  { key: 'irisSplits(', prints: [/^accuracy (0\.9\d*|1), first flower /m] },
  { key: "parseLayers('conv2d", prints: [/conv2d:8:k=5.*: test accuracy [5-9]\d\.\d\d %/] },
  { key: "schedule: { kind: 'cosine' }", prints: [/^epoch 1: val acc 0\.\d+/m, /^epoch 2: val acc 0\.\d+/m, /^recipe: \{"kind":"cosine"\}, label smoothing 0\.1$/m] },
  { key: 'saveModelFile(model', prints: [/^784 → linear:500,relu,linear:10 0\.\d+\.\d+ 397510$/m] },
  { key: "from 'onnxruntime-node'", prints: [/\[ 100, 10 \]/, /largest difference from predict: (\d\.\de-([6-9]|\d\d)|0\.0e\+0)$/m] },
];

/** The block as it runs: SHORTER's substitutions (each must match), imports pointed at `sources(entry)`. */
function runnable(b: Block, sources: (entry: string) => string): string {
  let code = b.code;
  for (const { pairs } of SHORTER.filter((s) => b.code.includes(s.key))) {
    for (const [from, to] of pairs) {
      expect(code.includes(from), `${where(b)} no longer contains ${JSON.stringify(from)}`).toBe(true);
      code = code.split(from).join(to);
    }
  }
  for (const [from, entry] of [["from 'webgpu-mlp/node'", 'src/node/index.ts'], ["from 'webgpu-mlp/vite'", 'src/vite/index.ts'], ["from 'webgpu-mlp'", 'src/index.ts']]) {
    code = code.split(from).join(`from '${sources(entry)}'`);
  }
  return code;
}

const blocks = files.flatMap(tsBlocks);
const work = join(root, 'node_modules', '.cache', 'guide-blocks');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The first block of each text (a repeated block runs where it first appears). */
const seen = new Set<string>();
const firsts = blocks.filter((b) => !seen.has(b.code) && seen.add(b.code));

describe('the code blocks of the README and the guides', () => {
  it('are found, and every PRINTS and SHORTER key matches one', () => {
    expect(blocks.filter((b) => b.file === 'README.md').length).toBeGreaterThanOrEqual(3);
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const { key } of [...PRINTS, ...SHORTER]) expect(blocks.some((b) => b.code.includes(key)), key).toBe(true);
    for (const b of blocks.filter(isPage)) expect(blocks.some((c) => c.file === b.file && isConfig(c)), `${where(b)}: no vite.config.ts block beside it`).toBe(true);
  });

  for (const file of files) {
    const node = firsts.filter((b) => b.file === file && !isConfig(b) && !isPage(b));
    if (node.length === 0) continue;
    it(`${file}: the Node blocks run as written and print what they say`, () => {
      const dir = join(work, file.replace(/[/.]/g, '-'));
      mkdirSync(dir, { recursive: true });
      for (const b of node) {
        const path = join(dir, `line-${b.line}.ts`);
        writeFileSync(path, runnable(b, (entry) => join(root, entry)));
        const started = performance.now();
        const run = spawnWithStderrFile(process.execPath, ['--import', 'tsx', path], { cwd: dir, timeout: 240_000 });
        console.log(`${where(b)} (${((performance.now() - started) / 1000).toFixed(1)} s):\n${run.stdout}`);
        expect(run.stderr, where(b)).toBe('');
        expect(run.status, where(b)).toBe(0);
        expect(run.stdout.trim(), `${where(b)} prints nothing`).not.toBe('');
        for (const { prints } of PRINTS.filter((p) => b.code.includes(p.key))) for (const p of prints) expect(run.stdout, where(b)).toMatch(p);
      }
    }, 900_000);
  }

  for (const page of firsts.filter(isPage)) {
    it(`${where(page)} trains in Chromium under its file's vite.config.ts`, async () => {
      const config = blocks.find((b) => b.file === page.file && isConfig(b))!;
      const dir = join(work, `page-${page.file.replace(/[/.]/g, '-')}-${page.line}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'vite.config.ts'), runnable(config, (entry) => join(root, entry)));
      writeFileSync(join(dir, 'main.ts'), runnable(page, (entry) => `/@fs${join(root, entry)}`));
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
        await tab.waitForFunction(() => document.body === null || (document.body.textContent ?? '').trim() !== '', { timeout: 300_000 });
        const text = await tab.evaluate(() => document.body.textContent ?? '');
        console.log(`${where(page)}: ${text}`);
        expect(errors).toEqual([]);
        for (const { prints } of PRINTS.filter((p) => page.code.includes(p.key))) for (const p of prints) expect(text).toMatch(p);
      } finally {
        await browser.close();
        await server.close();
      }
    }, 400_000);
  }
});
