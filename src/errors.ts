/**
 * The base of the errors the engine throws on purpose, each carrying what it is about (the file, tensor, flag,
 * limit) as fields, so a program can tell them apart without reading messages. The CLI prints one line per error
 * and exits 2 for bad input and misuse, 1 for a run that failed (the GPU, a device limit, divergence, a lost
 * device). Each class names itself in a string (`name`): a minified build renames classes, not strings.
 */
export class EngineError extends Error {
  /** The class's name as a string, stable under minification; test it rather than `constructor.name`. */
  override name = 'EngineError';
}

/** A file, tensor, flag or value that cannot be right. */
export class BadInputError extends EngineError {
  /** Always `'BadInputError'`. */
  override name = 'BadInputError';
  /**
   * @param message What is wrong, in one line.
   * @param where Where the bad input came from: any of the file, tensor, flag and value it is about.
   */
  constructor(message: string, readonly where: {
    /** The file (a path or a name, such as a checkpoint's) that holds it. */
    file?: string;
    /** The tensor, by name ("0.weight"), in a checkpoint or state. */
    tensor?: string;
    /** The command-line flag or option that set it. */
    flag?: string;
    /** The offending value itself. */
    value?: unknown;
  } = {}) {
    super(message);
  }
}

/** The library used in a way it does not support (a second fit while one runs, a call after dispose()). */
export class MisuseError extends EngineError {
  /** Always `'MisuseError'`. */
  override name = 'MisuseError';
}

/** A run that started and could not go on: the class of the failures below. */
export class RunFailure extends EngineError {
  /** Always `'RunFailure'`. */
  override name = 'RunFailure';
}

/** What was asked needs a WebGPU feature the device was not given (shader-f16 for precision 'f16'). */
export class MissingFeatureError extends RunFailure {
  /** Always `'MissingFeatureError'`. */
  override name = 'MissingFeatureError';
  /**
   * @param message What needs the feature, which device lacks it, and how to ask for it.
   * @param feature The GPUFeatureName that is missing ("shader-f16").
   */
  constructor(message: string, readonly feature: string) {
    super(message);
  }
}

/** A buffer or dispatch that the device's limits do not allow, found before anything runs. */
export class DeviceLimitError extends RunFailure {
  /** Always `'DeviceLimitError'`. */
  override name = 'DeviceLimitError';
  /**
   * @param what What needs more than the limit allows, with its unit ("buffer 'params' (bytes)").
   * @param limit The GPUSupportedLimits field that is too small ("maxBufferSize").
   * @param needed What it needs, in the limit's unit.
   * @param allowed The device's value of the limit.
   */
  constructor(readonly what: string, readonly limit: string, readonly needed: number, readonly allowed: number) {
    super(`${what} needs ${needed.toLocaleString('en-US')} but the device's ${limit} is ${allowed.toLocaleString('en-US')}`);
  }
}

/** WebGPU reported an error (validation, out of memory, internal): nothing after it can be trusted. */
export class GpuError extends RunFailure {
  /** Always `'GpuError'`. */
  override name = 'GpuError';
  /**
   * @param gpuMessage The first message the GPU error scopes caught, as WebGPU wrote it.
   * @param during The work it happened in ("training epoch 3", "building the training plan").
   */
  constructor(readonly gpuMessage: string, readonly during: string) {
    super(`WebGPU error during ${during}: ${gpuMessage.split('\n').map((l) => l.trim()).filter(Boolean).join(' ')}`);
  }
}

/** The training loss became non-finite (too high a learning rate, usually). */
export class DivergedError extends RunFailure {
  /** Always `'DivergedError'`. */
  override name = 'DivergedError';
  /**
   * @param epoch The epoch it happened in, 1-based over the model's life (as EpochInfo.epoch).
   * @param step The step within that epoch, 1-based, at which the loss was read.
   * @param loss The mean training loss so far in the epoch: non-finite, or over 100 × ln(classes).
   */
  constructor(readonly epoch: number, readonly step: number, readonly loss: number) {
    super(`training diverged: the loss is ${loss} at epoch ${epoch}, step ${step} (try a lower learning rate)`);
  }
}

/** The GPU device was lost (driver reset, device.destroy(), the tab in the background for too long). */
export class DeviceLostError extends RunFailure {
  /** Always `'DeviceLostError'`. */
  override name = 'DeviceLostError';
  /**
   * @param reason GPUDeviceLostInfo.reason: 'destroyed' or 'unknown'.
   * @param detail GPUDeviceLostInfo.message: the browser's or driver's words, possibly empty.
   * @param hint What the caller can do about it, appended to the message.
   */
  constructor(readonly reason: string, readonly detail: string, hint = '') {
    super(`the GPU device was lost (${reason}${detail ? `: ${detail}` : ''})${hint ? `; ${hint}` : ''}`);
  }
}

/** The CLI's exit code for an error: 1 for a run that failed, 2 for anything the caller can fix in its input. */
export const exitCodeOf = (e: unknown): 1 | 2 => (e instanceof RunFailure ? 1 : 2);
