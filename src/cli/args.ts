// Shared CLI plumbing: typed flag parsing with one-line errors (exit code 2, no stack trace).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(options: T, argv = process.argv.slice(2)) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

export function intFlag(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${raw}'`);
  return value;
}

/** A comma-separated list of positive integers, such as --batch-size 64,128,256. */
export function intListFlag(name: string, raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  const values = raw.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (!values.every((x) => Number.isInteger(x) && x >= 1)) throw new UsageError(`--${name} takes positive integers separated by commas, got '${raw}'`);
  return values;
}

export function floatFlag(name: string, raw: string | undefined, fallback: number, ok: (x: number) => boolean = (x) => x > 0): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !ok(value)) throw new UsageError(`--${name}: '${raw}' is out of range`);
  return value;
}

export function choiceFlag<C extends string>(name: string, raw: string | undefined, choices: readonly C[], fallback: C): C {
  if (raw === undefined) return fallback;
  if (!choices.includes(raw as C)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${raw}'`);
  return raw as C;
}

/** Runs a CLI main: usage and input errors print one line and exit 2; the process exits when main is done. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e: Error) => {
      console.error(`${name}: ${e.message}`);
      if (process.env.DEBUG) console.error(e.stack);
      process.exit(2);
    },
  );
}
