// Precision 'f16': the big products (those the variant choices run on the tiled family) stage their slices of A
// and B in half precision, f16 × f16 → f32, while weights, gradients, Adam and every reduction stay f32. It needs
// the shader-f16 feature; the small products (register and reduceK variants) stay f32 either way.
import type { MatmulVariant } from '../../shaders/matmul.js';
import { MissingFeatureError, BadInputError } from '../errors.js';
import type { VariantChoices } from './variants.js';

/** The arithmetic of the big products: 'f32' (default) or 'f16' (f16 × f16 → f32). */
export type Precision = 'f32' | 'f16';
/** Every Precision, for flags and checks. */
export const PRECISIONS: readonly Precision[] = ['f32', 'f16'];

const halved = <V extends MatmulVariant>(v: V, half: 'f16' | 'packed'): V => (v.tiled && v.transpose !== 'scalars' ? { ...v, half } : v);

/**
 * The choices with every tiled candidate and measured tiled shape choice staging its slices in half precision
 * ('f16' needs shader-f16; 'packed' stores the halves two to a u32 and runs anywhere, for checking).
 */
export function halfPrecisionVariants(choices: VariantChoices, half: 'f16' | 'packed' = 'f16'): VariantChoices {
  const matmul = Object.fromEntries(Object.entries(choices.matmul).map(([form, list]) => [form, list.map((v) => halved(v, half))])) as VariantChoices['matmul'];
  const byShape = choices.matmulByShape && Object.fromEntries(Object.entries(choices.matmulByShape).map(([key, v]) => [key, halved(v, half)]));
  return { ...choices, matmul, ...(byShape ? { matmulByShape: byShape } : {}) };
}

/** Checks a precision against the device: 'f16' needs shader-f16, else a MissingFeatureError says how to get it. */
export function checkPrecision(precision: unknown, device: GPUDevice, adapterName = 'this adapter'): Precision {
  if (!PRECISIONS.includes(precision as Precision)) {
    throw new BadInputError(`precision must be one of ${PRECISIONS.join(', ')}, got ${JSON.stringify(precision)}`, { flag: 'precision', value: precision });
  }
  if (precision === 'f16' && !device.features.has('shader-f16')) {
    throw new MissingFeatureError(
      `precision 'f16' needs the WebGPU feature shader-f16, which the device on ${adapterName} lacks ` +
        `(in Node, openNodeDevice(choice, { halfPrecision: true }) asks Dawn for it, and NVIDIA's Vulkan driver needs that toggle; software adapters have none)`,
      'shader-f16',
    );
  }
  return precision as Precision;
}
