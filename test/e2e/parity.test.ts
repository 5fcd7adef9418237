// The same seed and batches give the same losses in headless Chromium and in Node (both WebGPU).
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/node/mnistFiles.js';
import { openTestDevice } from '../helpers/gpu.js';
import { collectPageErrors, launchChromium, startViteServer } from '../../src/node/chromium.js';
import { runParitySteps } from './pages/paritySteps.js';

const gpu = await openTestDevice();
const { server, origin } = await startViteServer();
const browser = await launchChromium();
afterAll(async () => {
  await browser.close();
  await server.close();
});

describe('Chromium and Node agree', () => {
  it('after 20 training steps the losses match to 1e-5', async () => {
    const node = await runParitySteps(gpu.device, loadMnist());
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${origin}/test/e2e/pages/parity.html`);
    await page.waitForFunction(() => (window as unknown as { parity?: unknown }).parity !== undefined, { timeout: 300_000 });
    const chromium = await page.evaluate(() => (window as unknown as { parity: Record<string, unknown> }).parity);
    console.log('node', node, 'chromium', chromium);
    expect(chromium.error).toBeUndefined();
    expect(Math.abs((chromium.trainLoss as number) - node.trainLoss)).toBeLessThanOrEqual(1e-5);
    expect(Math.abs((chromium.testLoss as number) - node.testLoss)).toBeLessThanOrEqual(1e-5);
    expect(chromium.testAccuracy).toBe(node.testAccuracy);
    expect(errors).toEqual([]);
  });
});
