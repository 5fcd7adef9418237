// Node: whether the system's Vulkan driver gives a WebGPU adapter, asked in a child process (see
// systemDriverHasAdapter in ./gpu.ts for why) and remembered under the user's cache directory, keyed by what
// decides the answer: the driver manifests the Vulkan loader finds, the GPU device nodes (and their
// permissions), the user and groups asking, the loader's environment, and the Dawn build. Only a definite
// answer is remembered: a child that failed or ran out of time is asked again next time.
// The child costs a Node start and a Dawn start (about 130 ms on a 2-core machine), a third of the time to a
// first training step; the key costs a few directory reads.
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readCacheJson, userCacheFile, writeCacheJson } from './cacheFiles.js';

/** $XDG_CACHE_HOME/webgpu-mlp/vulkan-probe.json, or ~/.cache/webgpu-mlp/vulkan-probe.json when that is unset. */
export function defaultProbeFile(): string {
  return userCacheFile('vulkan-probe.json');
}

/**
 * The folders where the Vulkan loader looks for driver manifests on Linux (~/.config, $XDG_CONFIG_DIRS,
 * /usr/local/etc, /etc, ~/.local/share, $XDG_DATA_DIRS, each then vulkan/icd.d), and where GPU device nodes
 * appear.
 */
export function probeKeyFolders(): string[] {
  const env = process.env;
  const configHome = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  const config = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const dataHome = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  const data = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  return [configHome, ...config, '/usr/local/etc', '/etc', dataHome, ...data].map((d) => join(d, 'vulkan', 'icd.d')).concat('/dev/dri', '/dev');
}

/** Each file of `folders` that can decide the answer, with its size, times and mode (in /dev: the nvidia and dxg nodes only). */
function entriesOf(folders: readonly string[]): string[] {
  const out: string[] = [];
  for (const folder of folders) {
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch {
      continue; // a folder that is not there finds no driver
    }
    for (const name of folder === '/dev' ? names.filter((n) => n.startsWith('nvidia') || n === 'dxg') : names) {
      try {
        const s = statSync(join(folder, name));
        out.push(`${join(folder, name)} ${s.size} ${s.mtimeMs} ${s.ctimeMs} ${s.mode}`);
      } catch {
        out.push(join(folder, name));
      }
    }
  }
  return out;
}

export interface ProbeCache {
  /** The cache file; a damaged or unreadable one is probed past and rewritten. */
  file?: string;
  /** Where manifests and device nodes are looked for (probeKeyFolders by default). */
  folders?: readonly string[];
  /** What else decides the answer: the Dawn build (its native module, size and time). */
  extra?: string;
  /** Ask now whatever is remembered, and remember the new answer. */
  fresh?: boolean;
}

/** The loader's environment: extra driver files, driver selection, and where libraries load from. */
const LOADER_ENV = ['VK_ADD_DRIVER_FILES', 'VK_LOADER_DRIVERS_SELECT', 'VK_LOADER_DRIVERS_DISABLE', 'LD_LIBRARY_PATH'];

/** The cache key: everything the answer depends on, as one string. */
export function probeKey(cache: ProbeCache = {}): string {
  return JSON.stringify({
    drivers: entriesOf(cache.folders ?? probeKeyFolders()),
    env: LOADER_ENV.map((name) => process.env[name] ?? ''),
    user: [process.getuid?.() ?? -1, ...(process.getgroups?.() ?? [])],
    extra: cache.extra ?? '',
  });
}

/**
 * `probe()`'s answer, from the cache when its key still holds (and `fresh` is not asked), else asked now and
 * remembered; a probe that gives no answer (null) counts as no adapter, and is not remembered.
 */
export function cachedProbe(probe: () => boolean | null, cache: ProbeCache = {}): boolean {
  const file = cache.file ?? defaultProbeFile();
  const key = probeKey(cache);
  try {
    const saved = cache.fresh ? undefined : (readCacheJson(file, 1 << 20) as { key?: unknown; hasAdapter?: unknown } | null | undefined);
    if (saved?.key === key && typeof saved.hasAdapter === 'boolean') return saved.hasAdapter;
  } catch {
    // an unreadable cache (a FIFO, a folder there) is only a cache: probe again and overwrite it
  }
  const hasAdapter = probe();
  if (hasAdapter === null) return false;
  try {
    writeCacheJson(file, { key, hasAdapter });
  } catch {
    // an unwritable cache directory costs the probe next time, nothing more
  }
  return hasAdapter;
}

/** Forgets the cached answer (the driver said otherwise when asked in this process). */
export function forgetProbe(cache: ProbeCache = {}): void {
  try {
    writeCacheJson(cache.file ?? defaultProbeFile(), {});
  } catch {
    // nothing cached, or nowhere to write: nothing to forget
  }
}
