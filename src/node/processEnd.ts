// Node: cleanup when the process ends, whether it exits or SIGINT, SIGTERM or SIGHUP ends it ('exit' does not run
// then): the private XDG_RUNTIME_DIR Dawn's device gets, a checkpoint's lock.

/** Runs `cleanup` when the process exits or one of those signals ends it; after a signal's last cleanup the process ends as the signal would. */
export function onProcessEnd(cleanup: () => void): void {
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanup();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
