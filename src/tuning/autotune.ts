// Autotuning: for each matmul a model's training step runs, time the candidate variants that verify on this
// adapter and keep the fastest, per shape. Bounded: each shape gets a time budget, candidates are tried in
// the order most likely to win for its class (skinny, big, other), and one clearly slower than the best so
// far is not timed further. Results are cached per adapter and engine version (a file in Node, localStorage
// in the browser), so the search runs once per machine.
import type { InputKind } from '../data/dataset.js';
import { matmulExceedsDevice, matmulFamily, matmulShader, matmulVariantName, parseMatmulVariant, type MatmulFamily, type MatmulForm, type MatmulShape, type MatmulVariant } from '../../shaders/matmul.js';
import type { AdapterDescription } from '../gpu/device.js';
import { PipelineCache } from '../gpu/dispatch.js';
import { architectureOf } from '../engine/mlp.js';
import type { Architecture } from '../layers/architecture.js';
import { Ops } from '../gpu/ops.js';
import { chooseMatmul, defaultVariantsFor, inRange, matmulShapeKey, MEDIUM, SKINNY, type VariantChoices } from '../gpu/variants.js';
import { codeHash } from '../gpu/codeHash.js';
import { compareMatmulVariants, matmulCandidates } from './matmulVariants.js';

/** A tuned choice as stored: the variant, and the codeHash of the kernel that was timed (matmulShader for the shape). */
export interface TunedChoice {
  /** The fastest verified variant. */
  variant: MatmulVariant;
  /** The codeHash of its kernel for the shape when timed: a changed kernel is tuned again. */
  code: string;
}

/** Where tuned choices are kept between runs, by adapter (tuneKey) and shape (matmulShapeKey). */
export interface TuneStore {
  /** The choices stored under an adapter's key, by shape key; undefined when there are none. */
  load(key: string): Record<string, TunedChoice> | undefined;
  /** Replaces what is stored under the key with these choices (the stored ones kept, plus the newly tuned). */
  save(key: string, choices: Record<string, TunedChoice>): void;
}

/** The codeHash of the kernel a variant runs for a shape key ('nn 128×500×784 u8'), or null for a key that is not one. */
export function tunedCodeHash(shapeKey: string, variant: MatmulVariant): string | null {
  const m = shapeKey.match(/^(nn|nt|tn) (\d+)×(\d+)×(\d+)( u8)?$/);
  if (!m || m[1] !== variant.form) return null;
  return codeHash(matmulShader(variant, { M: Number(m[2]), N: Number(m[3]), K: Number(m[4]), inputU8: Boolean(m[5]) }));
}

/** A store in localStorage (browser). */
export const localStorageTuneStore: TuneStore = {
  load: (key) => {
    const raw = globalThis.localStorage?.getItem(`webgpu-mlp/autotune/${key}`);
    return raw ? JSON.parse(raw) : undefined;
  },
  save: (key, choices) => globalThis.localStorage?.setItem(`webgpu-mlp/autotune/${key}`, JSON.stringify(choices)),
};

/** The store's key for an adapter. Kernel changes are caught per entry, by the code hash each one keeps. */
export function tuneKey(adapter: AdapterDescription): string {
  return [adapter.vendor, adapter.architecture, adapter.device, adapter.description].join('|');
}

/**
 * The matmuls of one training step of a model (its architecture: `model.architecture`, or `architecture(layers,
 * inputs)`) at a batch size. The first layer's products read u8 pixels, or f32 features like every other
 * layer's when `input` is 'f32'.
 */
export function trainingMatmuls(arch: Architecture, batchSize: number, input: InputKind = 'u8'): [MatmulForm, MatmulShape][] {
  return arch.layers.flatMap((layer) => layer.module.products?.(layer.spec, layer, batchSize, layer.index === 0 ? input : null) ?? []);
}

/**
 * The candidates for a shape, most promising first: the current default, then the family that suits the
 * shape's class (reduceK for few outputs over a long K, tiled for many outputs), then the rest.
 */
export function rankedCandidates(form: MatmulForm, shape: MatmulShape, base: VariantChoices, limits: GPUSupportedLimits, software: boolean): MatmulVariant[] {
  // The shape classes of the GPU defaults (src/gpu/variants.ts).
  const order: MatmulFamily[] = software ? ['register', 'tiled', 'reduceK']
    : inRange(SKINNY, shape) ? ['reduceK', 'register', 'tiled']
      : inRange(MEDIUM, shape) ? ['tiled', 'register', 'reduceK'] : ['register', 'tiled', 'reduceK'];
  const rank = (v: MatmulVariant) => order.indexOf(matmulFamily(v));
  const ranked = matmulCandidates(form).sort((x, y) => rank(x) - rank(y));
  const first = chooseMatmul(base, form, shape, limits);
  const firstName = matmulVariantName(first);
  return [first, ...ranked.filter((v) => matmulVariantName(v) !== firstName)];
}

/** What autotuneVariants tunes, for which adapter, and where it keeps the results. */
export interface AutotuneOptions {
  /** The model's layers as placed: `model.architecture`, or `architecture(layers, inputs)` before a model is made. */
  architecture: Architecture;
  /** The batch sizes to tune its training-step matmuls for (each gives its own shapes). */
  batchSizes: number[];
  /** What the model's first layer reads (ModelOptions.input). Default 'u8'. */
  input?: InputKind;
  /** The device's adapter: its defaults are the starting point, and it keys the store. */
  adapter: AdapterDescription;
  /** Where tuned choices persist between runs (fileTuneStore, localStorageTuneStore). Default none: tune every time. */
  store?: TuneStore;
  /** Tune the shapes again even where the store has them (other shapes' stored choices are kept). */
  fresh?: boolean;
  /** Wall-clock budget per shape, in ms. Default 3000. */
  budgetMs?: number;
  /** Called with a line per tuned shape (and one before the first). */
  log?: (line: string) => void;
  /** Told in a line when the store cannot be read or written (the run goes on without it). Default console.warn: stderr in Node. */
  warn?: (line: string) => void;
}

/**
 * The stored choices that are still variants this engine can build on this device, timed on the kernel it would
 * run today; a damaged or stale entry (edited by hand, timed on a kernel whose code has changed since, past the
 * device's limits) is dropped, said in a line, and tuned again.
 */
function checkedCache(stored: Record<string, TunedChoice>, limits: GPUSupportedLimits, log?: (line: string) => void): Record<string, TunedChoice> {
  const kept: Record<string, TunedChoice> = {};
  for (const [shapeKey, entry] of Object.entries(stored ?? {})) {
    let problem: string | null;
    let parsed: MatmulVariant | null = null;
    try {
      const name = matmulVariantName(entry.variant);
      parsed = parseMatmulVariant(name);
      problem = parsed && matmulVariantName(parsed) === name ? matmulExceedsDevice(parsed, limits) : `'${name}' is not a variant`;
      if (!problem && parsed && entry.code !== tunedCodeHash(shapeKey, parsed)) problem = 'timed on a kernel whose code has changed since';
    } catch (e) {
      problem = (e as Error).message;
    }
    if (problem || !parsed) log?.(`autotune: dropping the stored choice for ${shapeKey} (${problem ?? 'unreadable'}); it is tuned again`);
    else kept[shapeKey] = { variant: parsed, code: entry.code };
  }
  return kept;
}

/**
 * The adapter's default variants, with the fastest verified matmul variant for each shape a training step of
 * the model runs at each batch size: stored choices are reused (a stale one is tuned again), new ones timed
 * and saved to the store.
 */
export async function autotuneVariants(device: GPUDevice, o: AutotuneOptions): Promise<VariantChoices> {
  const base = defaultVariantsFor(o.adapter);
  const key = tuneKey(o.adapter);
  const warn = o.warn ?? ((line: string) => console.warn(line));
  // A cache is only a cache: one that cannot be read or written costs the cache, not the run.
  let stored: Record<string, TunedChoice> | undefined;
  try {
    stored = o.store?.load(key);
  } catch (e) {
    warn(`autotune: the tuning cache cannot be read (${(e as Error).message}); tuning without it`);
  }
  const cached = checkedCache(stored ?? {}, device.limits, o.log);
  const chosen: Record<string, TunedChoice> = { ...cached };
  const ops = new Ops(new PipelineCache(device), base);
  const budgetMs = o.budgetMs ?? 3000;
  const todo = new Map<string, [MatmulForm, MatmulShape]>();
  for (const batchSize of o.batchSizes) {
    for (const [form, shape] of trainingMatmuls(o.architecture, batchSize, o.input)) {
      const shapeKey = matmulShapeKey(form, shape);
      if (o.fresh || !chosen[shapeKey]) todo.set(shapeKey, [form, shape]);
    }
  }
  if (todo.size) o.log?.(`autotune: ${todo.size} products, up to ${(budgetMs / 1000).toFixed(1)} s each`);
  let done = 0;
  for (const [shapeKey, [form, shape]] of todo) {
    const started = performance.now();
    const candidates = rankedCandidates(form, shape, base, device.limits, o.adapter.isFallbackAdapter);
    const results = await compareMatmulVariants(device, ops, form, shape, candidates, { quick: true, budgetMs, pruneFactor: 1.5 });
    const timed = results.filter((r) => r.verified && r.timing && !r.pruned);
    const best = [...timed].sort((a, b) => a.timing!.medianMs - b.timing!.medianMs)[0];
    done++;
    if (!best) continue;
    const variant = candidates.find((v) => matmulVariantName(v) === best.variant)!;
    chosen[shapeKey] = { variant, code: tunedCodeHash(shapeKey, variant)! };
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    o.log?.(`autotune ${done}/${todo.size}: ${shapeKey} → ${best.variant} (${best.timing!.medianMs.toFixed(3)} ms; ${results.filter((r) => r.timing).length} of ${candidates.length} timed in ${seconds} s)`);
  }
  if (todo.size) {
    try {
      o.store?.save(key, chosen);
    } catch (e) {
      warn(`autotune: the tuning cache cannot be written (${(e as Error).message}); this run uses the tuned choices, later runs tune again`);
    }
  }
  const tuned = Object.fromEntries(Object.entries(chosen).map(([k, c]) => [k, c.variant]));
  return { ...base, matmulByShape: { ...base.matmulByShape, ...tuned } };
}
