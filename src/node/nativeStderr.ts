// Node: runs a synchronous call with the process's file descriptor 2 pointed at /dev/null, for native code that
// writes straight to stderr. Dawn prints two warnings whenever it opens lavapipe's adapter ("Warning:
// maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 …", the same for storage
// buffers: it clamps the driver's limits to its own), from C++ through fprintf(stderr), inside the synchronous
// part of requestAdapter; it offers no toggle or callback to silence them.
// Node has no dup2, so the descriptor is swapped by number: open() takes the lowest free number, and 0 and 1
// stay open, so closing 2 and opening a file gives 2 again; the original is opened again through /proc afterwards.
// That works for a terminal, a pipe or a file. A socket cannot be opened through /proc (Node's child_process
// gives its children socket pairs, not pipes): there, as off Linux or with stderr closed, the call runs as it is
// and the warnings show.
import { closeSync, fstatSync, openSync } from 'node:fs';

const STDERR = 2;

/** Opens `path` expecting descriptor 2 (the lowest free one); closes it and throws if it got another number. */
function openAsStderr(path: string): void {
  const fd = openSync(path, 'a');
  if (fd !== STDERR) {
    closeSync(fd);
    throw new Error(`reopening stderr gave descriptor ${fd}`);
  }
}

/** `call()`, with whatever native code writes to stderr during it discarded (JavaScript's own writes too). */
export function withNativeStderrSilenced<T>(call: () => T): T {
  let saved: number;
  try {
    if (process.platform !== 'linux') return call();
    const s = fstatSync(STDERR);
    // A terminal, a pipe or a file can be opened again through /proc; a socket cannot.
    if (!(s.isCharacterDevice() || s.isFIFO() || s.isFile())) return call();
    saved = openSync(`/proc/self/fd/${STDERR}`, 'a');
  } catch {
    return call();
  }
  try {
    closeSync(STDERR);
    openAsStderr('/dev/null');
  } catch {
    // The swap did not happen: put stderr back as it was (closed 2 is free again) and run as is.
    try { openAsStderr(`/proc/self/fd/${saved}`); } catch { /* stderr stays as the failed swap left it */ }
    closeSync(saved);
    return call();
  }
  try {
    return call();
  } finally {
    // Never throws: the call's own result or error is what the caller gets.
    try {
      closeSync(STDERR);
      openAsStderr(`/proc/self/fd/${saved}`);
    } catch {
      // stderr stays where the swap left it; nothing better can be done without dup2
    }
    closeSync(saved);
  }
}
