// Runs a child process with its stderr in a file, as a terminal, a pipe or a log file receives it. Node's
// child_process would give the child a socket pair, the one kind of stderr the engine cannot keep Dawn's native
// start-up warnings off (src/node/nativeStderr.ts), so tests that read a child's stderr see it as users do.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Spawned {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** spawnSync(command, args, options) with utf8 output and stderr written to a file, then read back. */
export function spawnWithStderrFile(command: string, args: readonly string[], options: Omit<SpawnSyncOptions, 'stdio' | 'encoding'> = {}): Spawned {
  const dir = mkdtempSync(join(tmpdir(), 'stderr-'));
  const file = join(dir, 'stderr.txt');
  const fd = openSync(file, 'w');
  try {
    const r = spawnSync(command, args, { ...options, encoding: 'utf8', stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', fd] });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: readFileSync(file, 'utf8') };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
