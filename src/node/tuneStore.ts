// Node: autotuning results in a JSON file under the user's cache directory
// ($XDG_CACHE_HOME or ~/.cache, then webgpu-mlp/autotune.json), written atomically.
import type { TunedChoice, TuneStore } from '../tuning/autotune.js';
import { readCacheJson, userCacheFile, writeCacheJson } from './cacheFiles.js';

/** An autotune cache holds a few variants per shape and adapter: kilobytes. */
const MAX_CACHE_BYTES = 16 << 20;

/** $XDG_CACHE_HOME/webgpu-mlp/autotune.json, or ~/.cache/webgpu-mlp/autotune.json when that is unset. */
export function defaultTuneFile(): string {
  return userCacheFile('autotune.json');
}

/** A TuneStore in a JSON file, one entry per adapter key, written atomically; a damaged file reads as empty. */
export function fileTuneStore(path = defaultTuneFile()): TuneStore {
  // A damaged cache reads as empty: tune again and overwrite it.
  const readAll = () => (readCacheJson(path, MAX_CACHE_BYTES) ?? {}) as Record<string, Record<string, TunedChoice>>;
  return {
    load: (key) => readAll()[key],
    save: (key, choices) => writeCacheJson(path, { ...readAll(), [key]: choices }, 2),
  };
}
