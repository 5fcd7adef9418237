// The exported ONNX model in onnxruntime-web, in headless Chromium beside the engine: on the WASM backend and on
// the WebGPU backend (the same SwiftShader adapter the engine runs on), for every layer kind, the probabilities of
// 300 test images are predict's within 1e-5 and every argmax is the same.
import { afterAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium, startViteServer } from '../../src/node/chromium.js';

const { server, origin } = await startViteServer();
const browser = await launchChromium();
afterAll(async () => {
  await browser.close();
  await server.close();
});

interface PageResult {
  error?: string;
  count: number;
  models: { layers: string; backends: { backend: string; maxDiff: number; argmaxAgree: number; dims: number[] }[] }[];
}

describe('ONNX export in onnxruntime-web', () => {
  it('WASM and WebGPU reproduce predict for every layer kind', async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${origin}/test/e2e/pages/onnxWeb.html`);
    await page.waitForFunction(() => (window as unknown as { onnxWeb?: unknown }).onnxWeb !== undefined, { timeout: 300_000 });
    const result = await page.evaluate(() => (window as unknown as { onnxWeb: PageResult }).onnxWeb);
    console.log(JSON.stringify(result));
    expect(result.error).toBeUndefined();
    expect(result.models).toHaveLength(2);
    for (const model of result.models) {
      expect(model.backends.map((b) => b.backend)).toEqual(['wasm', 'webgpu']);
      for (const b of model.backends) {
        expect(b.dims, `${model.layers} on ${b.backend}`).toEqual([result.count, 10]);
        expect(b.maxDiff, `${model.layers} on ${b.backend}`).toBeLessThanOrEqual(1e-5);
        expect(b.argmaxAgree, `${model.layers} on ${b.backend}`).toBe(result.count);
      }
    }
    // onnxruntime-web may warn about its own kernel choices; nothing may fail.
    expect(errors).toEqual([]);
  });
});
