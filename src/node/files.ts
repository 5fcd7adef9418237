// Files that must never be left half-written: write to a temporary file beside the target, then rename.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`${path}: could not write (${(e as Error).message})`);
  }
}

export function readFileChecked(path: string): Uint8Array {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  return readFileSync(path);
}
