// Node: whether the system's Vulkan driver gives a WebGPU adapter, asked in a child process (see
// systemDriverHasAdapter in ./gpu.ts for why) and remembered under the user's cache directory, keyed by what
// decides the answer: the driver manifests the Vulkan loader finds, the GPU device nodes, and the Dawn build.
// The child costs a Node start and a Dawn start (about 130 ms on a 2-core machine), a third of the time to a
// first training step; the key costs a few directory reads.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { readFileChecked, writeFileAtomic } from './files.js';

/** $XDG_CACHE_HOME/webgpu-mlp/vulkan-probe.json, or ~/.cache/webgpu-mlp/vulkan-probe.json when that is unset. */
export function defaultProbeFile(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-mlp', 'vulkan-probe.json');
}

/**
 * The folders where the Vulkan loader looks for driver manifests on Linux ($XDG_CONFIG_DIRS, /etc,
 * $XDG_DATA_DIRS, ~/.local/share, each then vulkan/icd.d), and where GPU device nodes appear.
 */
export function probeKeyFolders(): string[] {
  const env = process.env;
  const config = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const data = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  const home = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return [...config, '/etc', ...data, home].map((d) => join(d, 'vulkan', 'icd.d')).concat('/dev/dri', '/dev');
}

/** Each file of `folders` that can decide the answer, with its size and time (for /dev: the nvidia nodes only). */
function entriesOf(folders: readonly string[]): string[] {
  const out: string[] = [];
  for (const folder of folders) {
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch {
      continue; // a folder that is not there finds no driver
    }
    for (const name of folder === '/dev' ? names.filter((n) => n.startsWith('nvidia')) : names) {
      try {
        const s = statSync(join(folder, name));
        out.push(`${join(folder, name)} ${s.size} ${s.mtimeMs}`);
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
  /** What else decides the answer: the Dawn build (its file, size and time) and the extra driver files asked for. */
  extra?: string;
}

/** The cache key: everything the answer depends on, as one string. */
export function probeKey(cache: ProbeCache = {}): string {
  return JSON.stringify({
    drivers: entriesOf(cache.folders ?? probeKeyFolders()),
    add: process.env.VK_ADD_DRIVER_FILES ?? '',
    extra: cache.extra ?? '',
  });
}

/** `probe()`'s answer, from the cache when its key still holds, else asked now and remembered. */
export function cachedProbe(probe: () => boolean, cache: ProbeCache = {}): boolean {
  const file = cache.file ?? defaultProbeFile();
  const key = probeKey(cache);
  try {
    if (existsSync(file)) {
      const saved = JSON.parse(new TextDecoder().decode(readFileChecked(file, 1 << 20))) as { key?: unknown; hasAdapter?: unknown };
      if (saved.key === key && typeof saved.hasAdapter === 'boolean') return saved.hasAdapter;
    }
  } catch {
    // a damaged cache is only a cache: probe again and overwrite it
  }
  const hasAdapter = probe();
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify({ key, hasAdapter }) + '\n');
  } catch {
    // an unwritable cache directory costs the probe next time, nothing more
  }
  return hasAdapter;
}

/** Forgets the cached answer (the driver said otherwise when asked in this process). */
export function forgetProbe(cache: ProbeCache = {}): void {
  try {
    writeFileAtomic(cache.file ?? defaultProbeFile(), '{}\n');
  } catch {
    // nothing cached, or nowhere to write: nothing to forget
  }
}
