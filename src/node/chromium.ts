// Headless Chromium (the system one, see .puppeteerrc.cjs) against pages served by Vite on 127.0.0.1: used by
// `npm run train:browser` and the end-to-end tests.
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { createServer, type ViteDevServer } from 'vite';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];

/** The project's Vite dev server on a free port; `scanPages` adds pages whose dependencies to pre-bundle. */
export async function startViteServer(scanPages: string[] = []): Promise<{ server: ViteDevServer; origin: string }> {
  const server = await createServer({
    configFile: 'vite.config.ts',
    server: { host: '127.0.0.1', port: 0, open: false },
    logLevel: 'error',
    ...(scanPages.length ? { optimizeDeps: { entries: scanPages } } : {}),
  });
  await server.listen();
  const address = server.httpServer!.address();
  if (!address || typeof address === 'string') throw new Error('vite server has no TCP address');
  return { server, origin: `http://127.0.0.1:${address.port}` };
}

/**
 * Headless Chromium. A start on a loaded 2-core machine can outlast puppeteer's 30 s wait for the browser's
 * endpoint: wait 90 s, and start once more if that runs out too.
 */
export async function launchChromium(): Promise<Browser> {
  const launch = () => puppeteer.launch({ headless: true, args: CHROMIUM_ARGS, protocolTimeout: 600_000, timeout: 90_000 });
  try {
    return await launch();
  } catch (e) {
    if ((e as Error).name !== 'TimeoutError') throw e;
    console.warn(`Chromium did not start in 90 s (${(e as Error).message}); starting it once more`);
    return launch();
  }
}

/** Collects console errors, uncaught exceptions and WebGPU uncaptured errors of a page. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${(e as Error).message}`));
  return errors;
}
