// Node: the engine's JSON caches under the user's cache directory ($XDG_CACHE_HOME or ~/.cache, then
// webgpu-mlp/), read bounded and written atomically. A cache is only a cache: a damaged one reads as absent.
import { BadInputError } from '../errors.js';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { readFileChecked, writeFileAtomic } from './files.js';

/** $XDG_CACHE_HOME/webgpu-mlp/`name`, or ~/.cache/webgpu-mlp/`name` when that is unset. */
export function userCacheFile(name: string): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-mlp', name);
}

/** The engine's caches nest a few levels; deeper is damage (and JSON.stringify recurses: 100,000 levels overflow its stack). */
const MAX_CACHE_DEPTH = 32;

/**
 * The JSON in `path`, or undefined where there is none, it does not parse, or it nests deeper than any cache
 * this engine writes; a file over `maxBytes` is refused by name.
 */
export function readCacheJson(path: string, maxBytes: number): unknown {
  if (!existsSync(path)) return undefined;
  // Bounded and regular files only, like every read: a FIFO or a link to /dev/zero there is refused by name.
  const text = new TextDecoder().decode(readFileChecked(path, maxBytes));
  if (nestingDepth(text) > MAX_CACHE_DEPTH) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How deep the arrays and objects of a JSON text nest (brackets inside strings not counted), without parsing it. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Writes `value` as JSON to `path` atomically, making its folder first; a fault is refused naming the path. */
export function writeCacheJson(path: string, value: unknown, indent?: number): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw new BadInputError(`${path}: its folder cannot be made (${(e as Error).message})`, { file: path });
  }
  writeFileAtomic(path, JSON.stringify(value, null, indent) + '\n');
}
