// Node: the engine's JSON caches under the user's cache directory ($XDG_CACHE_HOME or ~/.cache, then
// webgpu-mlp/), read bounded and written atomically. A cache is only a cache: a damaged one reads as absent.
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { readFileChecked, writeFileAtomic } from './files.js';

/** $XDG_CACHE_HOME/webgpu-mlp/`name`, or ~/.cache/webgpu-mlp/`name` when that is unset. */
export function userCacheFile(name: string): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-mlp', name);
}

/** The JSON in `path`, or undefined where there is none or it does not parse; a file over `maxBytes` is refused by name. */
export function readCacheJson(path: string, maxBytes: number): unknown {
  if (!existsSync(path)) return undefined;
  // Bounded and regular files only, like every read: a FIFO or a link to /dev/zero there is refused by name.
  const bytes = readFileChecked(path, maxBytes);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** Writes `value` as JSON to `path` atomically, making its folder first. */
export function writeCacheJson(path: string, value: unknown, indent?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, JSON.stringify(value, null, indent) + '\n');
}
