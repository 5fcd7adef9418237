import { output } from '../shaders/bindings.js';
import { describe, expect, it, vi } from 'vitest';
import { formatAdapter, NO_ADAPTER_HINT, openBrowserDevice } from '../src/gpu/device.js';
import { readFloats, storageBuffer, uploadFloats } from '../src/gpu/buffers.js';
import { dispatch, encodeDispatches, PipelineCache } from '../src/gpu/dispatch.js';
import { openTestDevice, withErrorScope } from './helpers/gpu.js';

const gpu = await openTestDevice();

describe('device', () => {
  it('finds an adapter, says which, and runs a compute dispatch', async () => {
    console.log(`adapter: ${formatAdapter(gpu.adapterInfo)} — ${gpu.driverNote}`);
    expect(gpu.adapterInfo.vendor.length).toBeGreaterThan(0);
    expect(gpu.device.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(gpu.adapter.limits.maxStorageBufferBindingSize);
    await withErrorScope(gpu.device, async () => {
      const data = new Float32Array([1, 2, 3, 4, 5]);
      const buffer = storageBuffer(gpu.device, data.byteLength, 'doubled');
      uploadFloats(gpu.device, buffer, data);
      const code = `@group(0) @binding(0) var<storage, read_write> x: array<f32>;
        @compute @workgroup_size(64) fn double(@builtin(global_invocation_id) gid: vec3u) {
          if (gid.x < 5u) { x[gid.x] = 2.0 * x[gid.x]; } }`;
      const kernel = { label: 'double', code, entryPoint: 'double', bindings: [output('x')], invocations: 5, workgroupSize: 64, cost: { flops: 5, bytes: 40 } };
      const doubled = dispatch(new PipelineCache(gpu.device), kernel, { x: { buffer } });
      const encoder = gpu.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      encodeDispatches(pass, [doubled]);
      pass.end();
      gpu.device.queue.submit([encoder.finish()]);
      expect(Array.from(await readFloats(gpu.device, buffer, 0, 5))).toEqual([2, 4, 6, 8, 10]);
    });
  });
});

describe('a browser without a usable WebGPU', () => {
  it('says what to do when navigator.gpu is missing, and the likely causes when it gives no adapter', async () => {
    vi.stubGlobal('navigator', {});
    await expect(openBrowserDevice()).rejects.toThrow(/^WebGPU is not available in this browser\. Use a recent Chrome/);
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => null } });
    await expect(openBrowserDevice()).rejects.toThrow(NO_ADAPTER_HINT);
    expect(NO_ADAPTER_HINT).toMatch(/blocklisted .*chrome:\/\/gpu.*hardware acceleration.*flag/);
    vi.unstubAllGlobals();
  });
});
