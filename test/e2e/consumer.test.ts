// The npm library as another web project uses it: `npm run build`, then a separate page that imports the
// package by name (resolved to dist/ through package.json's exports, not src/) trains in headless Chromium.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium } from '../../src/node/chromium.js';

const root = resolve('.');
const consumer = join(root, 'test', 'e2e', 'consumer');

describe('the built package in a consumer page', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('builds, imports by package name and trains a few steps', async () => {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'pipe', timeout: 300_000 });
    // node_modules/webgpu-mlp → the project, as `npm install ../webgpu-mlp` would link it.
    rmSync(join(consumer, 'node_modules'), { recursive: true, force: true });
    mkdirSync(join(consumer, 'node_modules'));
    symlinkSync(root, join(consumer, 'node_modules', 'webgpu-mlp'), 'dir');
    cleanups.push(() => rmSync(join(consumer, 'node_modules'), { recursive: true, force: true }));

    const server = await createServer({
      configFile: false, root: consumer, logLevel: 'error',
      server: { host: '127.0.0.1', port: 0, fs: { allow: [consumer, join(root, 'dist')] } },
      optimizeDeps: { noDiscovery: true, include: [] },
    });
    await server.listen();
    cleanups.push(() => server.close());
    const address = server.httpServer!.address() as { port: number };
    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    const loaded: string[] = [];
    page.on('response', (r) => loaded.push(r.url()));
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, { timeout: 300_000 });
    const result = await page.evaluate(() => (window as unknown as { result: Record<string, any> }).result);
    expect(result.error).toBeUndefined();
    expect(result.epochs).toBe(3);
    expect(result.after.loss).toBeLessThan(result.before.loss / 4);
    expect(result.after.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(loaded.some((u) => u.includes('/dist/'))).toBe(true);
    expect(loaded.some((u) => u.includes('/src/'))).toBe(false);
    expect(errors).toEqual([]);
  });
});
