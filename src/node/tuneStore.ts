// Node: autotuning results in a JSON file under the user's cache directory
// ($XDG_CACHE_HOME or ~/.cache, then webgpu-mlp/autotune.json), written atomically.
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TunedChoice, TuneStore } from '../tuning/autotune.js';
import { readFileChecked, writeFileAtomic } from './files.js';

/** An autotune cache holds a few variants per shape and adapter: kilobytes. */
const MAX_CACHE_BYTES = 16 << 20;

/** $XDG_CACHE_HOME/webgpu-mlp/autotune.json, or ~/.cache/webgpu-mlp/autotune.json when that is unset. */
export function defaultTuneFile(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-mlp', 'autotune.json');
}

/** A TuneStore in a JSON file, one entry per adapter key, written atomically; a damaged file reads as empty. */
export function fileTuneStore(path = defaultTuneFile()): TuneStore {
  const readAll = (): Record<string, Record<string, TunedChoice>> => {
    if (!existsSync(path)) return {};
    // Bounded and regular files only, like every read: a FIFO or a link to /dev/zero there is refused by name.
    const bytes = readFileChecked(path, MAX_CACHE_BYTES);
    try {
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return {}; // a damaged cache is only a cache: tune again and overwrite it
    }
  };
  return {
    load: (key) => readAll()[key],
    save: (key, choices) => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, JSON.stringify({ ...readAll(), [key]: choices }, null, 2) + '\n');
    },
  };
}
