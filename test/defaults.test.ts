// A model made the README's way (no `variants`) takes its kernels from the adapter behind its device: the
// software defaults on SwiftShader, the GPU choices on a GPU; `variants` still overrides.
import { describe, expect, it } from 'vitest';
import { Model, modelInternals } from '../src/engine/model.js';
import { adapterOfDevice, recordAdapter } from '../src/gpu/device.js';
import { DEFAULT_VARIANTS, GPU_VARIANTS } from '../src/gpu/variants.js';
import { openTestDevice } from './helpers/gpu.js';

const gpu = await openTestDevice();

describe('variants from the device', () => {
  it('the software adapter that opened the test device gives the software defaults', () => {
    expect(adapterOfDevice(gpu.device)?.isFallbackAdapter).toBe(gpu.adapterInfo.isFallbackAdapter);
    const model = new Model(gpu.device, { sizes: [784, 16, 10] });
    expect(modelInternals(model).ops.choices).toBe(gpu.adapterInfo.isFallbackAdapter ? DEFAULT_VARIANTS : GPU_VARIANTS);
    model.dispose();
  });

  it('a device described as a GPU gets the GPU choices, and passing variants still overrides them', async () => {
    const other = await openTestDevice();
    const device = other.device;
    recordAdapter(device, { vendor: 'nvidia', architecture: 'hopper', device: 'H200', description: 'described for the test', isFallbackAdapter: false });
    const model = new Model(device, { sizes: [784, 16, 10] });
    expect(modelInternals(model).ops.choices).toBe(GPU_VARIANTS);
    const chosen = new Model(device, { sizes: [784, 16, 10], variants: DEFAULT_VARIANTS });
    expect(modelInternals(chosen).ops.choices).toBe(DEFAULT_VARIANTS);
    for (const m of [model, chosen]) m.dispose();
  });
});
