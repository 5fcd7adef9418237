// Files read and written safely.
// Reads: only regular files (a FIFO or /dev/zero would read forever), and never more than a stated limit.
// Writes: only to a path that is a regular file or nothing yet (never through a link, never over a device
// node), through a temporary file beside the target that is flushed to disk and then renamed, so an existing
// file is either kept whole or replaced whole. Temporary files left by a process that died are removed.
import { BadInputError } from '../errors.js';
import { accessSync, closeSync, constants, existsSync, fsyncSync, lstatSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { onProcessEnd } from './processEnd.js';

/** Default cap on a file read whole: far above any model or data file this engine reads. */
export const MAX_READ_BYTES = 1 << 30;

/** Fails, naming the path, unless `path` is a regular file of at most `maxBytes`. */
export function checkReadable(path: string, maxBytes = MAX_READ_BYTES): number {
  if (!existsSync(path)) throw new BadInputError(`${path}: no such file`, { file: path });
  const stat = statSync(path);
  if (stat.isDirectory()) throw new BadInputError(`${path}: is a directory, not a file`, { file: path });
  if (!stat.isFile()) throw new BadInputError(`${path}: not a regular file (a device, FIFO or socket)`, { file: path });
  if (stat.size > maxBytes) throw new BadInputError(`${path}: ${stat.size} bytes is over the ${maxBytes}-byte limit for this file`, { file: path });
  return stat.size;
}

export function readFileChecked(path: string, maxBytes = MAX_READ_BYTES): Uint8Array {
  checkReadable(path, maxBytes);
  return readFileSync(path);
}

/** The longest file name most file systems take (bytes); the temporary file adds its suffix to it. */
const MAX_NAME_BYTES = 255;

/**
 * Fails, naming the flag (or only the path, for a file no flag names: a cache), unless `path` can take a new
 * file: nothing there yet, or a regular file, with a name the file system takes, in a directory this process
 * may write to. Checked before a run, not after it.
 */
export function checkWritable(path: string, flag?: string): void {
  const where = flag === undefined ? path : `--${flag} ${path}`;
  const nameBytes = Buffer.byteLength(`${basename(path)}${TMP}${process.pid}`);
  if (nameBytes > MAX_NAME_BYTES) throw new BadInputError(`${where}: the file name is too long (${Buffer.byteLength(basename(path))} bytes; at most ${MAX_NAME_BYTES - (nameBytes - Buffer.byteLength(basename(path)))} here)`, { file: path, flag });
  let stat;
  try {
    stat = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new BadInputError(`${where}: cannot be written (${code}: ${(e as Error).message})`, { file: path, flag });
    stat = undefined;
  }
  if (stat?.isSymbolicLink()) throw new BadInputError(`${where}: is a symbolic link; give the file it points to`, { file: path, flag });
  if (stat && !stat.isFile()) throw new BadInputError(`${where}: exists and is not a regular file; it would be replaced`, { file: path, flag });
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BadInputError(`${where}: no such directory ${dir}`, { file: path, flag });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new BadInputError(`${where}: the directory ${dir} is not writable`, { file: path, flag });
  }
}

/**
 * What a path names, as the file system sees it: the real directory (links resolved) and the name, plus the
 * device and inode when the file exists. Two paths that name one file through links compare equal.
 */
function fileIdentity(path: string): string {
  if (existsSync(path)) {
    const stat = statSync(path);
    return `inode ${stat.dev}:${stat.ino}`;
  }
  const dir = dirname(resolve(path));
  return `path ${existsSync(dir) ? realpathSync(dir) : dir}/${basename(path)}`;
}

/**
 * Checks every output of a command before it starts its work: each can be written, no two are the same
 * file, and none is one of its inputs (`--save X --resume X` would replace a full checkpoint with weights).
 * `allowSame` names output/input pairs that may be one file (`--checkpoint` and `--resume`).
 */
export function checkOutputs(outputs: Record<string, string | undefined>, inputs: Record<string, string | undefined> = {}, allowSame: [string, string][] = []): void {
  const given = Object.entries(outputs).filter((e): e is [string, string] => e[1] !== undefined);
  for (const [flag, path] of given) checkWritable(path, flag);
  const all = [...given.map(([flag, path]) => ({ flag, path, output: true })), ...Object.entries(inputs).filter((e): e is [string, string] => e[1] !== undefined).map(([flag, path]) => ({ flag, path, output: false }))];
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++) {
      const [a, b] = [all[i], all[j]];
      if (!a.output || fileIdentity(a.path) !== fileIdentity(b.path)) continue;
      if (allowSame.some(([x, y]) => (x === a.flag && y === b.flag) || (x === b.flag && y === a.flag))) continue;
      throw new BadInputError(`--${a.flag} and --${b.flag} are the same file ${a.path}: one would ${b.output ? 'overwrite the other' : 'replace what the run reads'}`, { file: a.path, flag: a.flag });
    }
}

const TMP = '.tmp-';

/**
 * Takes `${path}.lock` for this process (its pid inside), so two runs cannot interleave their writes to one
 * file; a lock whose process is gone, or an old one that holds no pid, is taken over. Released when the
 * process exits, or a signal ends it. A lock that cannot be read (a FIFO, a directory, a huge file), that names
 * a live process that is not a training run, or that holds no pid and is only seconds old (another run may be
 * starting), is refused naming the lock, so the user can see what to remove.
 */
export function lockOutput(path: string, flag: string): void {
  const lock = `${path}.lock`;
  const refuse = (why: string) => new BadInputError(`--${flag} ${path}: ${why}`, { file: lock, flag });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      onProcessEnd(() => rmSync(lock, { force: true }));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw refuse(`cannot take its lock ${lock} (${(e as Error).message})`);
    }
    let text: string;
    try {
      // Bounded: a FIFO there would block the read forever, a huge file fill the memory.
      text = new TextDecoder().decode(readFileChecked(lock, MAX_LOCK_BYTES));
    } catch (e) {
      throw refuse(`its lock cannot be read (${(e as Error).message}); remove it if no run is writing the file`);
    }
    const pid = /^[1-9]\d*$/.test(text.trim()) ? Number(text.trim()) : undefined;
    if (pid === undefined) {
      // No pid: a lock left half-written by a run that died, or one another run made a moment ago and has not
      // written its pid into yet. Only an old one is taken over.
      let age: number;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // gone meanwhile: its run released it
      }
      if (age < FRESH_LOCK_MS) {
        throw refuse(`its lock ${lock} holds no pid (${text.trim() ? JSON.stringify(text.trim().slice(0, 20)) : 'empty'}) and was made ${Math.max(0, age / 1000).toFixed(1)} s ago: another run may be starting; remove ${lock} if no run is writing the file`);
      }
    } else if (pid !== process.pid && alive(pid)) {
      const command = commandOf(pid);
      if (command === undefined || isTraining(command)) throw refuse(`another run (pid ${pid}) is writing it; wait for that run, or give another file`);
      throw refuse(`its lock ${lock} names pid ${pid}, a live process that is not a training run (${JSON.stringify(command.join(' ').slice(0, 80))}); remove ${lock} if no run is writing the file`);
    }
    rmSync(lock, { force: true }); // left by a process that is gone
  }
  throw refuse(`could not take its lock ${lock}`);
}

/** A lock holds a pid: a few bytes. */
const MAX_LOCK_BYTES = 64;

/** A lock without a pid younger than this may be another run's between making the file and writing its pid. */
const FRESH_LOCK_MS = 5000;

/** A process's arguments (Linux's /proc), or undefined where they cannot be read. */
function commandOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Whether a command line is this engine's training: the train script, or the CLI given 'train'. */
function isTraining(args: string[]): boolean {
  return args.some((a) => /(^|\/)train\.[jt]s$/.test(a)) || (args.some((a) => /(^|\/)(webgpu-mlp|cli\.js|main\.[jt]s)$/.test(a)) && args.includes('train'));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `${path}.tmp-PID` files that a process no longer running left behind. */
function removeStaleTemporaries(path: string): void {
  const dir = dirname(resolve(path));
  const prefix = `${basename(path)}${TMP}`;
  for (const name of readdirSync(dir)) {
    const pid = Number(name.slice(prefix.length));
    if (name.startsWith(prefix) && Number.isInteger(pid) && pid !== process.pid && !alive(pid)) rmSync(join(dir, name), { force: true });
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string, flag?: string): void {
  checkWritable(path, flag);
  const tmp = `${path}${TMP}${process.pid}`;
  try {
    removeStaleTemporaries(path);
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new BadInputError(`${path}: could not write (${(e as Error).message})`, { file: path });
  }
}
