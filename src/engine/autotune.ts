// Autotuning: for each matmul a model's training step runs, time the candidate variants that verify on this
// adapter and keep the fastest, per shape. Results are cached per adapter and engine version (a file in Node,
// localStorage in the browser), so the search runs once per machine.
import { matmulUnsupported, type MatmulForm, type MatmulShape, type MatmulVariant } from '../../shaders/matmul.js';
import { compareMatmulVariants, matmulCandidates } from '../bench/matmulVariants.js';
import { ENGINE_VERSION } from '../version.js';
import type { AdapterDescription } from './device.js';
import { PipelineCache } from './dispatch.js';
import { mlpLayers } from './mlp.js';
import { Ops } from './ops.js';
import { DEFAULT_VARIANTS, GPU_VARIANTS, matmulShapeKey, type VariantChoices } from './variants.js';

/** Where tuned choices are kept between runs. */
export interface TuneStore {
  load(key: string): Record<string, MatmulVariant> | undefined;
  save(key: string, choices: Record<string, MatmulVariant>): void;
}

/** A store in localStorage (browser). */
export const localStorageTuneStore: TuneStore = {
  load: (key) => {
    const raw = globalThis.localStorage?.getItem(`webgpu-mlp/autotune/${key}`);
    return raw ? JSON.parse(raw) : undefined;
  },
  save: (key, choices) => globalThis.localStorage?.setItem(`webgpu-mlp/autotune/${key}`, JSON.stringify(choices)),
};

export function tuneKey(adapter: AdapterDescription): string {
  return [adapter.vendor, adapter.architecture, adapter.device, adapter.description, `engine ${ENGINE_VERSION}`].join('|');
}

/** The untuned defaults for an adapter class: software adapters want big register tiles, GPUs parallelism. */
export function defaultVariantsFor(adapter: AdapterDescription): VariantChoices {
  return adapter.isFallbackAdapter ? DEFAULT_VARIANTS : GPU_VARIANTS;
}

/** The matmuls of one training step of an MLP at a batch size. */
export function trainingMatmuls(sizes: number[], batchSize: number): [MatmulForm, MatmulShape][] {
  return mlpLayers(sizes).flatMap((layer, l): [MatmulForm, MatmulShape][] => [
    ['nn', { M: batchSize, N: layer.outputs, K: layer.inputs, inputU8: l === 0 }],
    ['tn', { M: layer.inputs, N: layer.outputs, K: batchSize, inputU8: l === 0 }],
    ...(l > 0 ? [['nt', { M: batchSize, N: layer.inputs, K: layer.outputs }] as [MatmulForm, MatmulShape]] : []),
  ]);
}

export interface AutotuneOptions {
  sizes: number[];
  batchSizes: number[];
  adapter: AdapterDescription;
  store?: TuneStore;
  /** Called with one line per tuned shape. */
  log?: (line: string) => void;
}

export async function autotuneVariants(device: GPUDevice, o: AutotuneOptions): Promise<VariantChoices> {
  const base = defaultVariantsFor(o.adapter);
  const key = tuneKey(o.adapter);
  const cached = o.store?.load(key) ?? {};
  const chosen: Record<string, MatmulVariant> = { ...cached };
  const ops = new Ops(new PipelineCache(device), base);
  let changed = false;
  for (const batchSize of o.batchSizes) {
    for (const [form, shape] of trainingMatmuls(o.sizes, batchSize)) {
      const shapeKey = matmulShapeKey(form, shape);
      if (chosen[shapeKey]) continue;
      // Skip the one-invocation-per-output baseline: it is there to be beaten, and it is slow to time.
      const candidates = matmulCandidates(form).slice(1).filter((v) => matmulUnsupported(v, shape) === null);
      const results = await compareMatmulVariants(device, ops, form, shape, candidates, { quick: true });
      const best = results.filter((r) => r.verified && r.timing).sort((a, b) => a.timing!.medianMs - b.timing!.medianMs)[0];
      if (!best) continue;
      chosen[shapeKey] = candidates[results.indexOf(best)];
      changed = true;
      o.log?.(`autotune: ${shapeKey} → ${best.variant} (${best.timing!.medianMs.toFixed(2)} ms)`);
    }
  }
  if (changed) o.store?.save(key, chosen);
  return { ...base, matmulByShape: chosen };
}
