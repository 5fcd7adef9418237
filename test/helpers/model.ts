// Shared by the whole-model tests: sparse synthetic digits, target sets for mse and bce, and the engine's bar for gradients.
import { expect } from 'vitest';
import type { Dataset, FloatDataset } from '../../src/data/dataset.js';
import { mlpLayerSpecs } from '../../src/layers/index.js';
import { randomArray } from './gpu.js';

/** `count` sparse u8 images (a quarter of the pixels lit, like digits) with random labels, from a seed. */
export function syntheticData(count: number, features: number, classes: number, seed: number): Dataset {
  const images = new Uint8Array(count * features);
  const labels = new Uint8Array(count);
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0) >>> 16;
  for (let i = 0; i < images.length; i++) images[i] = next() % 4 === 0 ? next() % 256 : 0;
  for (let i = 0; i < count; i++) labels[i] = next() % classes;
  return { name: 'synthetic', images, labels, count, features };
}

/** The gradient bar of the engine: ≤ 1e-4 relative, or 1e-6 absolute where |reference| < 1e-2, per tensor. */
export function expectGradientsClose(got: Float32Array, want: Float64Array, tensors: { name: string; offset: number; length: number }[]): void {
  for (const t of tensors) {
    let worst = 0;
    let worstAt = -1;
    for (let i = t.offset; i < t.offset + t.length; i++) {
      const ref = want[i];
      const err = Math.abs(got[i] - ref);
      const scaled = Math.abs(ref) < 1e-2 ? err / 1e-6 : err / (1e-4 * Math.abs(ref));
      if (scaled > worst) { worst = scaled; worstAt = i; }
    }
    const detail = worstAt < 0 ? '' : `worst at [${worstAt - t.offset}]: got ${got[worstAt]} want ${want[worstAt]}`;
    expect(worst, `${t.name}: ${detail}`).toBeLessThanOrEqual(1);
  }
}

/** Model options of the plain MLP of these widths (inputs first, classes last): linear and ReLU in turn. */
export const mlpOptions = (sizes: readonly number[]) => ({ layers: mlpLayerSpecs(sizes), inputs: sizes[0] });

/** `count` rows of `features` values in [−2, 2) with `width` targets each: values in [−3, 3) ('mse') or 0/1 and soft ones ('bce'). */
export function targetData(count: number, features: number, width: number, loss: 'mse' | 'bce', seed: number): FloatDataset {
  const images = randomArray(count * features, seed).map((x) => 2 * x);
  const raw = randomArray(count * width, seed + 1);
  const values = loss === 'mse' ? raw.map((x) => 3 * x) : raw.map((x, i) => (i % 3 === 2 ? (x + 1) / 2 : x > 0 ? 1 : 0));
  return { name: `${loss} set`, images, labels: new Uint8Array(0), targets: { values, width }, count, features };
}
