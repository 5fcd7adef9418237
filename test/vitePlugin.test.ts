// webgpu-mlp/vite's MNIST plugin: the dev server answers the raw and gzipped IDX files (and nothing else under
// its base), and a build emits the gzipped files, which inflate to the package's bytes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { build, createServer } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { MNIST_FILES } from '../src/data/mnist.js';
import { defaultMnistDir } from '../src/node/mnistFiles.js';
import { mnist } from '../src/vite/index.js';

const root = mkdtempSync(join(tmpdir(), 'mnist-plugin-'));
writeFileSync(join(root, 'index.html'), '<!doctype html><title>page</title>');
const raw = (name: string) => readFileSync(join(defaultMnistDir(), name));

describe('the MNIST Vite plugin', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('serves each file raw and gzipped under its base, and passes other paths on', async () => {
    const server = await createServer({ configFile: false, root, logLevel: 'error', plugins: [mnist({ base: '/data/mnist' })], server: { host: '127.0.0.1', port: 0 } });
    await server.listen();
    try {
      const { port } = server.httpServer!.address() as { port: number };
      const at = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
      const labels = await at(`/data/mnist/${MNIST_FILES.testLabels}`);
      expect(Buffer.from(await labels.arrayBuffer()).equals(raw(MNIST_FILES.testLabels))).toBe(true);
      const gz = await at(`/data/mnist/${MNIST_FILES.testLabels}.gz`);
      expect(gz.headers.get('content-type')).toBe('application/gzip');
      expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).equals(raw(MNIST_FILES.testLabels))).toBe(true);
      // Not one of the four: Vite's own handling (its page fallback), not a file of the plugin's.
      expect((await at('/data/mnist/passwd.gz')).headers.get('content-type')).toMatch(/^text\/html/);
    } finally {
      await server.close();
    }
  });

  it('emits the four gzipped files in a build, which inflate to the original bytes', async () => {
    const outDir = join(root, 'dist');
    await build({ configFile: false, root, logLevel: 'error', plugins: [mnist()], build: { outDir, emptyOutDir: true } });
    for (const name of Object.values(MNIST_FILES)) {
      const gz = readFileSync(join(outDir, 'mnist', `${name}.gz`));
      expect(gunzipSync(gz).equals(raw(name)), name).toBe(true);
      expect(() => readFileSync(join(outDir, 'mnist', name))).toThrow(/ENOENT/);
    }
  });
});
