// Going on after the GPU device is lost (a driver reset, a GPU taken away): when the run writes full
// checkpoints, the work since the last one is done again on a new device; otherwise the loss ends the run.
import { existsSync } from 'node:fs';
import { DeviceLostError } from '../errors.js';

export interface RecoveryOptions {
  /** The full checkpoint the run writes; recovery needs it to exist. */
  checkpoint?: string;
  /** Restarts allowed before the loss is final. Default 3. */
  maxRestarts?: number;
  log: (line: string) => void;
}

/**
 * Runs `attempt(false)`; each time it ends in a DeviceLostError while the checkpoint exists, says so and runs
 * `attempt(true)`, which opens a new device and continues from the checkpoint.
 */
export async function withDeviceRecovery<T>(o: RecoveryOptions, attempt: (fromCheckpoint: boolean) => Promise<T>): Promise<T> {
  for (let restarts = 0; ; restarts++) {
    try {
      return await attempt(restarts > 0);
    } catch (e) {
      if (!(e instanceof DeviceLostError)) throw e;
      if (!o.checkpoint || !existsSync(o.checkpoint)) throw new DeviceLostError(e.reason, e.detail, 'no checkpoint to continue from (train with --checkpoint FILE)');
      if (restarts >= (o.maxRestarts ?? 3)) throw e;
      o.log(`${e.message}; continuing from ${o.checkpoint} on a new device`);
    }
  }
}
