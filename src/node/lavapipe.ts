// Node: where Mesa's lavapipe (Vulkan on the CPU through LLVM, 3–5× faster than SwiftShader for this engine)
// can be found. Its driver manifest (ICD file) is looked for, in order:
//   $LAVAPIPE_ICD                         when set, that file only
//   the project's fetched copy            $XDG_CACHE_HOME/webgpu-mlp/lavapipe/… (scripts/setup.sh on Debian 12,
//                                         whose own Mesa 22.3 is too old for Dawn)
//   the system's                          lvp_icd.<arch>.json in the Vulkan loader's system folders (Mesa ≥ 24:
//                                         Debian 13, Ubuntu 24.04 and later, package mesa-vulkan-drivers)
// Whether a manifest gives Dawn an adapter is asked in a child process (a refused driver makes Dawn print
// warnings, and loads its libraries for nothing) and remembered like the system driver's answer.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { userCacheFile } from './cacheFiles.js';

/** The folder scripts/setup.sh unpacks lavapipe into: $XDG_CACHE_HOME/webgpu-mlp/lavapipe (or ~/.cache/…). */
export function fetchedLavapipeDir(): string {
  return userCacheFile('lavapipe');
}

const VULKAN_ARCH: Partial<Record<NodeJS.Architecture, string>> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686' };

/** The lavapipe manifests to try, best first; only files that exist. */
export function lavapipeIcdCandidates(): string[] {
  if (process.env.LAVAPIPE_ICD) return [process.env.LAVAPIPE_ICD].filter((f) => existsSync(f));
  const fetched = join(fetchedLavapipeDir(), 'root', 'usr', 'share', 'vulkan', 'icd.d', 'lvp_icd.json');
  const arch = VULKAN_ARCH[process.arch];
  const names = [...(arch ? [`lvp_icd.${arch}.json`] : []), 'lvp_icd.json'];
  const system = ['/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/etc/vulkan/icd.d'].flatMap((d) => names.map((n) => join(d, n)));
  return [fetched, ...system].filter((f) => existsSync(f));
}

/**
 * What decides a manifest's answer besides Dawn: the manifest and the driver library it names (paths, sizes,
 * times), and the dynamic linker's cache (a runtime library the driver needs, installed since, changes it).
 */
export function lavapipeIdentity(icdFile: string): string {
  const stamp = (f: string) => {
    try {
      const s = statSync(f);
      return `${f} ${s.size} ${s.mtimeMs}`;
    } catch {
      return `${f} missing`;
    }
  };
  let library = '';
  try {
    const path = (JSON.parse(readFileSync(icdFile, 'utf8')) as { ICD?: { library_path?: unknown } }).ICD?.library_path;
    if (typeof path === 'string') library = isAbsolute(path) ? stamp(path) : path;
  } catch {
    library = 'unreadable manifest';
  }
  return `${stamp(icdFile)} | ${library} | ${dirname(icdFile)} | ${stamp('/etc/ld.so.cache')}`;
}
