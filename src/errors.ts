// The errors the engine throws on purpose, each carrying what it is about (the file, tensor, flag, limit) as
// fields, so a program can tell them apart without reading messages. The CLI prints one line per error and
// exits 2 for bad input and misuse, 1 for a run that failed (the GPU, a device limit, divergence, a lost device).
// Each class names itself in a string (`name`): a minified build renames classes, not strings.

export class EngineError extends Error {
  override name = 'EngineError';
}

/** A file, tensor, flag or value that cannot be right. */
export class BadInputError extends EngineError {
  override name = 'BadInputError';
  constructor(message: string, readonly where: { file?: string; tensor?: string; flag?: string; value?: unknown } = {}) {
    super(message);
  }
}

/** The library used in a way it does not support (a second fit while one runs, a call after dispose()). */
export class MisuseError extends EngineError {
  override name = 'MisuseError';
}

/** A run that started and could not go on: the class of the failures below. */
export class RunFailure extends EngineError {
  override name = 'RunFailure';
}

/** A buffer or dispatch that the device's limits do not allow, found before anything runs. */
export class DeviceLimitError extends RunFailure {
  override name = 'DeviceLimitError';
  constructor(readonly what: string, readonly limit: string, readonly needed: number, readonly allowed: number) {
    super(`${what} needs ${needed.toLocaleString('en-US')} but the device's ${limit} is ${allowed.toLocaleString('en-US')}`);
  }
}

/** WebGPU reported an error (validation, out of memory, internal): nothing after it can be trusted. */
export class GpuError extends RunFailure {
  override name = 'GpuError';
  constructor(readonly gpuMessage: string, readonly during: string) {
    super(`WebGPU error during ${during}: ${gpuMessage.split('\n').map((l) => l.trim()).filter(Boolean).join(' ')}`);
  }
}

/** The training loss became non-finite (too high a learning rate, usually). */
export class DivergedError extends RunFailure {
  override name = 'DivergedError';
  constructor(readonly epoch: number, readonly step: number, readonly loss: number) {
    super(`training diverged: the loss is ${loss} at epoch ${epoch}, step ${step} (try a lower learning rate)`);
  }
}

/** The GPU device was lost (driver reset, device.destroy(), the tab in the background for too long). */
export class DeviceLostError extends RunFailure {
  override name = 'DeviceLostError';
  constructor(readonly reason: string, readonly detail: string, hint = '') {
    super(`the GPU device was lost (${reason}${detail ? `: ${detail}` : ''})${hint ? `; ${hint}` : ''}`);
  }
}

/** The CLI's exit code for an error: 1 for a run that failed, 2 for anything the caller can fix in its input. */
export const exitCodeOf = (e: unknown): 1 | 2 => (e instanceof RunFailure ? 1 : 2);
