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

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * A TuneStore in a JSON file, one entry per adapter key, written atomically; a damaged file (not JSON, nested
 * past any cache, not an object of adapter entries) reads as empty. A file that cannot be read or written
 * throws naming it: autotuneVariants then goes on without the cache.
 */
export function fileTuneStore(path = defaultTuneFile()): TuneStore {
  // A damaged cache reads as empty: tune again and overwrite it. Entries that are not objects are damage too.
  const readAll = (): Record<string, Record<string, TunedChoice>> => {
    const all = readCacheJson(path, MAX_CACHE_BYTES);
    return isRecord(all) ? Object.fromEntries(Object.entries(all).filter(([, v]) => isRecord(v))) as Record<string, Record<string, TunedChoice>> : {};
  };
  return {
    load: (key) => readAll()[key],
    save: (key, choices) => writeCacheJson(path, { ...readAll(), [key]: choices }, 2),
  };
}
