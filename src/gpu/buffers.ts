// Small helpers for GPU buffers: creation with the right usage, upload, and the one readback path. Every
// buffer the engine makes goes through trackedBuffer, so liveBuffers() can tell what a device still holds
// (a model's dispose() must bring it back to where it was).
import { DeviceLimitError } from '../errors.js';

const live = new WeakMap<GPUDevice, { count: number; bytes: number }>();

/** Buffers (and their bytes) that the engine made on this device and has not destroyed yet. */
export function liveBuffers(device: GPUDevice): {
  /** Buffers made and not yet destroyed. */
  count: number;
  /** Their total size, in bytes. */
  bytes: number;
} {
  return { ...(live.get(device) ?? { count: 0, bytes: 0 }) };
}

/** device.createBuffer, counted until its first destroy(). */
export function trackedBuffer(device: GPUDevice, descriptor: GPUBufferDescriptor): GPUBuffer {
  const buffer = device.createBuffer(descriptor);
  const tally = live.get(device) ?? { count: 0, bytes: 0 };
  live.set(device, tally);
  tally.count += 1;
  tally.bytes += buffer.size;
  const destroy = buffer.destroy.bind(buffer);
  let destroyed = false;
  buffer.destroy = () => {
    if (!destroyed) {
      destroyed = true;
      tally.count -= 1;
      tally.bytes -= buffer.size;
    }
    destroy();
  };
  return buffer;
}

// Read lazily: in Node the GPUBufferUsage global exists only once the `webgpu` package has been set up.
const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
const uniformUsage = () => GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;

/**
 * Storage buffer of at least `bytes` (rounded up to 16 so vec4 views fit), bound whole: checked against the
 * device's limits first, so a buffer too big fails here with its name instead of as a WebGPU error later.
 */
export function storageBuffer(device: GPUDevice, bytes: number, label: string): GPUBuffer {
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  const { maxBufferSize, maxStorageBufferBindingSize } = device.limits;
  if (size > maxBufferSize) throw new DeviceLimitError(`buffer '${label}' (bytes)`, 'maxBufferSize', size, maxBufferSize);
  if (size > maxStorageBufferBindingSize) throw new DeviceLimitError(`buffer '${label}' (bytes)`, 'maxStorageBufferBindingSize', size, maxStorageBufferBindingSize);
  return trackedBuffer(device, { size, usage: storageUsage(), label });
}

export function uniformBuffer(device: GPUDevice, bytes: number, label: string): GPUBuffer {
  return trackedBuffer(device, { size: Math.ceil(bytes / 16) * 16, usage: uniformUsage(), label });
}

export function uploadFloats(device: GPUDevice, buffer: GPUBuffer, data: Float32Array, byteOffset = 0): void {
  device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
}

/** Copies `bytes` from `buffer` at `offset` to the host. A full round trip: never inside a training step. */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, offset = 0, bytes = buffer.size - offset): Promise<ArrayBuffer> {
  const staging = trackedBuffer(device, { size: Math.ceil(bytes / 4) * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, staging.size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return copy;
}

export async function readFloats(device: GPUDevice, buffer: GPUBuffer, offset = 0, count?: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, buffer, offset, count === undefined ? undefined : count * 4));
}
