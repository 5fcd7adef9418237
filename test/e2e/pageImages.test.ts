// imageToRow and datasetFromImages in headless Chromium: canvases, an OffscreenCanvas, an ImageBitmap and
// ImageData become channels-last u8 rows of the model's size (orange 255,128,0 → gray 151; blue 0,0,255 → gray 29).
import { afterAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium, startViteServer } from '../../src/node/chromium.js';

const { server, origin } = await startViteServer();
const browser = await launchChromium();
afterAll(async () => {
  await browser.close();
  await server.close();
});

const near = (got: number[], want: number[]) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `[${i}] got ${g} want ${want[i]}`).toBeLessThanOrEqual(2));
};

describe('page images', () => {
  it('a canvas, an OffscreenCanvas, an ImageBitmap and ImageData give the same rows', async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${origin}/test/e2e/pages/pageImages.html`);
    await page.waitForFunction(() => (window as unknown as { rows?: unknown }).rows !== undefined, { timeout: 60_000 });
    const rows = await page.evaluate(() => (window as unknown as { rows: Record<string, unknown> }).rows);
    expect(rows.error).toBeUndefined();
    near(rows.element as number[], [255, 128, 0, 0, 0, 255]);
    near(rows.offscreen as number[], [255, 128, 0, 0, 0, 255]);
    near(rows.bitmap as number[], [151, 29]);
    expect(rows.imageData).toEqual([151, 29]);
    expect(rows.blank).toEqual([0, 0, 0, 0]);
    const set = rows.set as { count: number; features: number; images: number[]; labels: number[] };
    expect([set.count, set.features, set.labels]).toEqual([2, 2, [1, 0]]);
    near(set.images, [151, 29, 151, 29]);
    expect(errors).toEqual([]);
  });
});
