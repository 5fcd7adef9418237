// MNIST in a page: the exported loader against a local HTTP server, plain and gzipped, with progress, and its
// errors (a missing file, a damaged gzip stream) naming the URL.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchMnistBytes } from '../src/data/mnistFetch.js';
import { MNIST_FILES, parseMnist } from '../src/data/mnist.js';
import { BadInputError } from '../src/errors.js';

/** Small IDX files: 7 training and 3 test images of 28×28, labels 0..9. */
function idx(dims: number[], fill: (i: number) => number): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(4 + 4 * dims.length + count);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x800 | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  for (let i = 0; i < count; i++) bytes[4 + 4 * dims.length + i] = fill(i);
  return bytes;
}
const files: Record<string, Uint8Array> = {
  [MNIST_FILES.trainImages]: idx([7, 28, 28], (i) => i % 251),
  [MNIST_FILES.trainLabels]: idx([7], (i) => i),
  [MNIST_FILES.testImages]: idx([3, 28, 28], (i) => (7 * i) % 256),
  [MNIST_FILES.testLabels]: idx([3], (i) => 9 - i),
};

const server = createServer((request, response) => {
  const [, dir, name] = (request.url ?? '').split('/');
  if (dir === 'spa') {
    // What Vite's dev server answers for a path it does not serve: its index page, status 200.
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><html><body>app</body></html>');
    return;
  }
  if (dir === 'raw' && files[name]) {
    // Raw file hosts serve binaries as text/plain: that must pass.
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(Buffer.from(files[name]));
    return;
  }
  const gz = name?.endsWith('.gz');
  const plain = files[gz ? name.slice(0, -3) : name];
  if (!plain || !['plain', 'gz', 'broken'].includes(dir) || (dir !== 'plain') !== gz) {
    response.writeHead(404).end();
    return;
  }
  const body = dir === 'broken' ? Buffer.from('not gzip at all') : gz ? gzipSync(plain) : Buffer.from(plain);
  response.writeHead(200, { 'Content-Length': body.length }).end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('fetchMnistBytes', () => {
  it.each([false, true])('fetches the four files (gzip %s) with progress up to the total', async (gzip) => {
    const progress: [number, number | undefined][] = [];
    const bytes = await fetchMnistBytes({ base: `${origin}/${gzip ? 'gz' : 'plain'}/`, gzip, onProgress: (r, t) => progress.push([r, t]) });
    for (const [key, name] of Object.entries(MNIST_FILES)) expect(bytes[key as keyof typeof MNIST_FILES]).toEqual(files[name]);
    const { train, test } = parseMnist(bytes);
    expect([train.count, test.count, train.features]).toEqual([7, 3, 784]);
    const total = Object.values(files).reduce((n, f) => n + (gzip ? gzipSync(f).length : f.length), 0);
    expect(progress.at(-1)).toEqual([total, total]);
    expect(progress.every(([r], i) => i === 0 || r > progress[i - 1][0])).toBe(true);
  });

  it('names the URL when a file is missing or its gzip stream is damaged', async () => {
    await expect(fetchMnistBytes(`${origin}/nowhere/`)).rejects.toThrow(BadInputError);
    await expect(fetchMnistBytes(`${origin}/nowhere/`)).rejects.toThrow(new RegExp(`^${origin}/nowhere/[a-z0-9-]+-ubyte: HTTP 404`));
    await expect(fetchMnistBytes({ base: `${origin}/broken/`, gzip: true })).rejects.toThrow(/\/broken\/[a-z0-9-]+-ubyte\.gz: not a valid gzip stream/);
  });

  it('says so when the server answers with an HTML page (a dev server without the MNIST plugin); text/plain passes', async () => {
    expect((await fetchMnistBytes(`${origin}/raw/`)).trainLabels).toEqual(files[MNIST_FILES.trainLabels]);
    for (const gzip of [false, true]) {
      await expect(fetchMnistBytes({ base: `${origin}/spa/`, gzip })).rejects.toThrow(
        new RegExp(`^${origin}/spa/[a-z0-9-]+-ubyte${gzip ? '\\.gz' : ''} answered with an HTML page \\(status 200\\), not the MNIST file: is the MNIST plugin in vite\\.config\\.ts`),
      );
    }
  });
});
