// --precision f32|f16 for train and bench: f16 asks Dawn for half precision, checks the device has shader-f16
// (a MissingFeatureError otherwise, before any work), and halves the tiled products' slices (src/gpu/precision.ts).
import { checkPrecision, halfPrecisionVariants, PRECISIONS, type Precision } from '../gpu/precision.js';
import type { VariantChoices } from '../gpu/variants.js';
import type { NodeDevice } from '../node/gpu.js';
import { formatAdapter } from '../gpu/device.js';
import { choiceFlag } from './args.js';

/** The flag as parseFlags takes it. */
export const PRECISION_FLAG = { precision: { type: 'string' } } as const;

/** --precision's value, f32 when left out. */
export const precisionFlag = (raw: string | undefined): Precision => choiceFlag('precision', raw, PRECISIONS, 'f32');

/** Checks the precision against the device before any work: f16 without shader-f16 throws, naming the feature. */
export function requirePrecision(precision: Precision, gpu: NodeDevice): void {
  checkPrecision(precision, gpu.device, formatAdapter(gpu.adapterInfo));
}

/** The variants for a precision on this device (checked as requirePrecision does). */
export function variantsForPrecision(precision: Precision, gpu: NodeDevice, variants: VariantChoices): VariantChoices {
  requirePrecision(precision, gpu);
  return precision === 'f16' ? halfPrecisionVariants(variants) : variants;
}

/** What the adapter line adds: which arithmetic the big products run in. */
export const precisionNote = (precision: Precision): string => (precision === 'f16' ? '; precision f16 (f16 × f16 → f32 in the tiled products)' : '');
