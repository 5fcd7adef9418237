// Pipelines are compiled once per distinct WGSL text; a Dispatch is a ready-to-encode pipeline + bind group.
import { inBindingOrder, type Binding } from '../../shaders/bindings.js';
import { dispatchSize } from '../../shaders/common.js';
import { codeHash } from './codeHash.js';

export interface BufferSlice {
  buffer: GPUBuffer;
  /** Byte offset; a multiple of minStorageBufferOffsetAlignment for storage bindings. */
  offset?: number;
  /** Byte size; the rest of the buffer when left out. */
  size?: number;
}

/** What a dispatch does, for benchmarks: arithmetic and the bytes it must move at least (each operand once). */
export interface DispatchCost {
  flops: number;
  bytes: number;
}

export interface Dispatch {
  /** Op name (the WGSL entry point) plus what it works on, for benchmarks and errors. */
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number];
  /** Invocations per workgroup. */
  workgroupSize: number;
  cost: DispatchCost;
  /** codeHash of the entry point and its WGSL: equal hashes, the same kernel. */
  codeHash: string;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly hashes = new Map<string, string>();
  /** Pipelines compiled, the wall time spent creating them, and their entry points in order (start-up benchmark). */
  readonly compiled = { count: 0, ms: 0, entryPoints: [] as string[] };
  constructor(readonly device: GPUDevice) {}

  /** codeHash of an entry point and its code, computed once per kernel. */
  hash(code: string, entryPoint: string): string {
    const key = `${entryPoint}\n${code}`;
    let hash = this.hashes.get(key);
    if (hash === undefined) this.hashes.set(key, (hash = codeHash(key)));
    return hash;
  }

  get size(): number {
    return this.pipelines.size;
  }

  get(code: string, entryPoint: string): GPUComputePipeline {
    const key = `${entryPoint}\n${code}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const started = performance.now();
      const module = this.device.createShaderModule({ code, label: entryPoint });
      pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint }, label: entryPoint });
      this.pipelines.set(key, pipeline);
      this.compiled.count++;
      this.compiled.entryPoints.push(entryPoint);
      this.compiled.ms += performance.now() - started;
    }
    return pipeline;
  }
}

const shared = new WeakMap<GPUDevice, PipelineCache>();

/** The device's one pipeline cache, shared by every model on it (a sweep's models compile each kernel once). */
export function pipelineCacheFor(device: GPUDevice): PipelineCache {
  let cache = shared.get(device);
  if (!cache) {
    cache = new PipelineCache(device);
    shared.set(device, cache);
  }
  return cache;
}

/** Builds a Dispatch: buffers by binding name, bound in the order of the kernel's binding list. */
export function makeDispatch(
  cache: PipelineCache,
  label: string,
  code: string,
  entryPoint: string,
  bindings: readonly Binding[],
  buffers: Record<string, BufferSlice>,
  invocations: number,
  workgroupSize: number,
  cost: DispatchCost,
): Dispatch {
  const pipeline = cache.get(code, entryPoint);
  const bindGroup = cache.device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: inBindingOrder(entryPoint, bindings, buffers).map((b, binding) => ({
      binding,
      resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size ?? b.buffer.size - (b.offset ?? 0) },
    })),
  });
  const maxPerDimension = cache.device.limits.maxComputeWorkgroupsPerDimension;
  return {
    label, pipeline, bindGroup, workgroups: dispatchSize(invocations, workgroupSize, maxPerDimension), workgroupSize, cost, codeHash: cache.hash(code, entryPoint),
  };
}

export function encodeDispatches(pass: GPUComputePassEncoder, dispatches: readonly Dispatch[]): void {
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1]);
  }
}
