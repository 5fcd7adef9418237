// Node: autotuning results in a JSON file under the user's cache directory
// ($XDG_CACHE_HOME or ~/.cache, then webgpu-mlp/autotune.json), written atomically.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TunedChoice, TuneStore } from '../tuning/autotune.js';
import { writeFileAtomic } from './files.js';

export function defaultTuneFile(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-mlp', 'autotune.json');
}

export function fileTuneStore(path = defaultTuneFile()): TuneStore {
  const readAll = (): Record<string, Record<string, TunedChoice>> => {
    if (!existsSync(path)) return {};
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
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
