// Shared CLI plumbing: typed flag parsing with one-line errors (exit code 2 for bad input, 1 for a run that
// failed; no stack trace unless DEBUG is set).
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BadInputError, exitCodeOf } from '../errors.js';
import { ENGINE_VERSION } from '../version.js';

export class UsageError extends BadInputError {}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(options: T, argv = process.argv.slice(2)) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    // Node's message spans lines; its first says what is wrong, and a hint such as "use '--lr=-XYZ'" may follow.
    const lines = (e as Error).message.split('\n');
    const hint = lines.find((l) => /^To specify an option argument starting with a dash/.test(l));
    throw new UsageError(hint ? `${lines[0]} ${hint.replace('To specify', 'to give')}` : lines[0]);
  }
}

export function intFlag(name: string, raw: string | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  // Decimal digits only: Number() would also read '0x1', '1e3' and ' 7 '.
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${raw}'`);
  if (value > max) throw new UsageError(`--${name} must be at most ${max}, got '${raw}'`);
  return value;
}

/** A comma-separated list of positive integers, such as --batch-size 64,128,256. */
export function intListFlag(name: string, raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  const values = raw.split(',').map((x) => (/^\d+$/.test(x.trim()) ? Number(x) : NaN));
  if (!values.every((x) => Number.isInteger(x) && x >= 1)) throw new UsageError(`--${name} takes positive integers separated by commas, got '${raw}'`);
  return values;
}

export function floatFlag(name: string, raw: string | undefined, fallback: number, ok: (x: number) => boolean = (x) => x > 0): number {
  if (raw === undefined) return fallback;
  const value = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(value) || !ok(value)) throw new UsageError(`--${name}: '${raw}' is out of range`);
  return value;
}

export function choiceFlag<C extends string>(name: string, raw: string | undefined, choices: readonly C[], fallback: C): C {
  if (raw === undefined) return fallback;
  if (!choices.includes(raw as C)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${raw}'`);
  return raw as C;
}

/** How the user started the command, for usage lines: 'webgpu-mlp train' (the bin), or 'npm run train --'. */
export function invocation(name: string): string {
  // Not npm's npm_lifecycle_event: every child of a script inherits it (`npm test` would name them all 'test').
  return `npm run ${name} --`;
}

/** The command as the user started it ('webgpu-mlp predict', 'npm run predict --'), set by runMain. */
let invoked: string | undefined;

/** `text` (a usage line, a command to run) with its `npm run NAME --` written the way the user started this command. */
export function asInvoked(text: string): string {
  return invoked === undefined ? text : text.replace(/npm run [\w:]+ --/g, invoked);
}

/**
 * Runs a CLI main: `--help`/`-h` prints its usage (with the command as the user typed it) and `--version` the
 * package's version, both before anything else and with exit 0; an error prints one line and exits 2 (usage,
 * input) or 1 (a run that failed: the GPU, a device limit, divergence); the process exits when main is done.
 */
export function runMain(name: string, main: () => Promise<void>, usage?: string, invokedAs = invocation(name)): void {
  const args = process.argv.slice(2);
  invoked = invokedAs;
  if (args.includes('--version')) {
    console.log(`webgpu-mlp ${ENGINE_VERSION}`);
    process.exit(0);
  }
  if (usage && (args.includes('--help') || args.includes('-h'))) {
    console.log(asInvoked(usage));
    process.exit(0);
  }
  main().then(
    () => process.exit(0),
    (e: Error) => {
      console.error(`${name}: ${e.message}`);
      if (process.env.DEBUG) console.error(e.stack);
      process.exit(exitCodeOf(e));
    },
  );
}

/** Runs `main` when the module at `moduleUrl` is the script Node was started with (`tsx src/cli/train.ts`). */
export function runIfEntry(moduleUrl: string, name: string, main: () => Promise<void>, usage?: string): void {
  const script = process.argv[1];
  if (script && pathToFileURL(realpathSync(script)).href === moduleUrl) runMain(name, main, usage);
}
