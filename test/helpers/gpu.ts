// One device per test file, opened with the same adapter logic as the CLI; fails loudly when there is none.
import { afterAll, expect } from 'vitest';
import { openNodeDevice, type AdapterChoice, type NodeDevice, type NodeDeviceOptions } from '../../src/node/gpu.js';
import { encodeDispatches, PipelineCache, type Dispatch } from '../../src/gpu/dispatch.js';
import { storageBuffer } from '../../src/gpu/buffers.js';
import { Ops } from '../../src/gpu/ops.js';

export async function openTestDevice(options: NodeDeviceOptions = {}): Promise<NodeDevice> {
  const gpu = await openNodeDevice((process.env.WEBGPU_ADAPTER as AdapterChoice | undefined) ?? 'auto', options);
  afterAll(() => gpu.destroy());
  return gpu;
}

export function testOps(device: GPUDevice): Ops {
  return new Ops(new PipelineCache(device));
}

/** Runs `body` inside a validation + out-of-memory error scope and fails on any WebGPU error. */
export async function withErrorScope<T>(device: GPUDevice, body: () => Promise<T>): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  const result = await body();
  const oom = await device.popErrorScope();
  const validation = await device.popErrorScope();
  expect(validation?.message ?? null, 'WebGPU validation error').toBeNull();
  expect(oom?.message ?? null, 'WebGPU out-of-memory error').toBeNull();
  return result;
}

/** Deterministic test data in [-1, 1). */
export function randomArray(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/**
 * Asserts |got − want| ≤ atol + rtol·|want| everywhere; on failure the message lists the first mismatches
 * and the largest error.
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const bad: string[] = [];
  let maxErr = 0;
  let maxAt = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= maxErr)) { maxErr = err; maxAt = i; }
    if (!(err <= atol + rtol * Math.abs(want[i])) && bad.length < 5) bad.push(`[${i}] got ${got[i]} want ${want[i]}`);
  }
  const summary = `${what}: max |error| ${maxErr.toExponential(3)} at [${maxAt}]`;
  expect(bad, `${summary}; first mismatches: ${bad.join(', ')}`).toEqual([]);
}

/** Encodes the dispatches in one pass, submits, and waits for the queue. */
export async function runDispatches(device: GPUDevice, dispatches: Dispatch[]): Promise<void> {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeDispatches(pass, dispatches);
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
}

/** A storage buffer holding `data`. */
export function gpuArray(device: GPUDevice, data: Float32Array | Uint32Array, label = 'test'): GPUBuffer {
  const buffer = storageBuffer(device, data.byteLength, label);
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}
