// WebGPU reports errors asynchronously, to error scopes or as uncaptured events, and otherwise lets a run go
// on with garbage. The engine wraps each piece of work (building a plan, an epoch, an evaluation) in scopes
// for every error kind and turns anything they caught into a GpuError before its results are used.
import { GpuError } from '../errors.js';

const FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

export function pushGpuErrorScopes(device: GPUDevice): void {
  for (const filter of FILTERS) device.pushErrorScope(filter);
}

/** Pops the scopes pushGpuErrorScopes pushed; throws a GpuError naming `during` when any caught an error. */
export async function popGpuErrorScopes(device: GPUDevice, during: string): Promise<void> {
  let first: GPUError | null = null;
  for (let i = 0; i < FILTERS.length; i++) first = (await device.popErrorScope()) ?? first;
  if (first) throw new GpuError(first.message, during);
}

/** Runs `body` inside the scopes: its result, or a GpuError when WebGPU reported one (even if body threw too). */
export async function checkedGpuWork<T>(device: GPUDevice, during: string, body: () => T | Promise<T>): Promise<T> {
  pushGpuErrorScopes(device);
  let result: T;
  try {
    result = await body();
  } catch (e) {
    await popGpuErrorScopes(device, during);
    throw e;
  }
  await popGpuErrorScopes(device, during);
  return result;
}
