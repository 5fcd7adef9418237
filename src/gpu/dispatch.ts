// Pipelines are compiled once per distinct WGSL text; a Dispatch is a ready-to-encode pipeline + bind group.
// Layouts are explicit, from each kernel's binding list.
import { inBindingOrder, type Binding } from '../../shaders/bindings.js';
import { dispatchSize } from '../../shaders/common.js';
import { codeHash } from './codeHash.js';

/** A range of a GPU buffer, as a binding takes it. */
export interface BufferSlice {
  /** The buffer. */
  buffer: GPUBuffer;
  /** Byte offset; a multiple of minStorageBufferOffsetAlignment for storage bindings. */
  offset?: number;
  /** Byte size; the rest of the buffer when left out. */
  size?: number;
}

/** What a dispatch does, for benchmarks: arithmetic and the bytes it must move at least (each operand once). */
export interface DispatchCost {
  /** Floating-point operations. */
  flops: number;
  /** Bytes read and written, each operand once. */
  bytes: number;
}

/** One kernel launch, ready to encode: a compiled pipeline, its bind group and its workgroup count. */
export interface Dispatch {
  /** Op name (the WGSL entry point) plus what it works on, for benchmarks and errors. */
  label: string;
  /** The compiled kernel. */
  pipeline: GPUComputePipeline;
  /** The buffers it binds. */
  bindGroup: GPUBindGroup;
  /** Workgroups along x and y. */
  workgroups: [number, number];
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Its arithmetic and the bytes it must move, for benchmarks. */
  cost: DispatchCost;
  /** codeHash of the entry point and its WGSL: equal hashes, the same kernel. */
  codeHash: string;
}

const BUFFER_TYPE: Record<Binding['access'], GPUBufferBindingType> = { read: 'read-only-storage', read_write: 'storage', uniform: 'uniform' };

export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pending = new Map<string, Promise<GPUComputePipeline | null>>();
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  private readonly hashes = new Map<string, string>();
  private queue: Promise<void> = Promise.resolve();
  private hold: Promise<unknown> = Promise.resolve();
  /**
   * Pipelines compiled while a caller waited, the wall time spent creating them, and their entry points in
   * order (start-up benchmark); `background`: those compiled asynchronously behind a quick twin (Ops.matmul).
   */
  readonly compiled = { count: 0, ms: 0, entryPoints: [] as string[], background: 0 };
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

  /**
   * The bind-group and pipeline layouts of a binding list (one per list of access modes). Explicit layouts let
   * two pipelines of one kernel family (a quick twin and its full kernel) share a bind group.
   */
  layout(bindings: readonly Binding[]): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    const key = bindings.map((b) => b.access).join(',');
    let layout = this.layouts.get(key);
    if (!layout) {
      const group = this.device.createBindGroupLayout({
        entries: bindings.map((b, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: BUFFER_TYPE[b.access] } })),
      });
      layout = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(key, layout);
    }
    return layout;
  }

  private descriptor(code: string, entryPoint: string, bindings: readonly Binding[]): GPUComputePipelineDescriptor {
    const module = this.device.createShaderModule({ code, label: entryPoint });
    return { layout: this.layout(bindings).pipeline, compute: { module, entryPoint }, label: entryPoint };
  }

  /** The compiled pipeline, or null where it is not compiled yet. */
  compiledPipeline(code: string, entryPoint: string): GPUComputePipeline | null {
    return this.pipelines.get(`${entryPoint}\n${code}`) ?? null;
  }

  /** The pipeline, compiled now where it is not compiled yet. */
  get(code: string, entryPoint: string, bindings: readonly Binding[]): GPUComputePipeline {
    const key = `${entryPoint}\n${code}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const started = performance.now();
      pipeline = this.device.createComputePipeline(this.descriptor(code, entryPoint, bindings));
      this.pipelines.set(key, pipeline);
      this.compiled.count++;
      this.compiled.entryPoints.push(entryPoint);
      this.compiled.ms += performance.now() - started;
    }
    return pipeline;
  }

  /** The pipeline compiled in the background (createComputePipelineAsync); null where compiling it failed. */
  getAsync(code: string, entryPoint: string, bindings: readonly Binding[]): Promise<GPUComputePipeline | null> {
    const key = `${entryPoint}\n${code}`;
    const ready = this.pipelines.get(key);
    if (ready) return Promise.resolve(ready);
    let promise = this.pending.get(key);
    if (!promise) {
      // One background compile at a time, each started after the one before: the caller's own work (the twins'
      // compiles, the first steps) keeps the other core.
      const compile = () => this.device.createComputePipelineAsync(this.descriptor(code, entryPoint, bindings));
      promise = this.queue.then(() => this.hold).then(() => new Promise<void>((wait) => setTimeout(wait, 0))).then(compile).then(
        (pipeline) => {
          if (!this.pipelines.has(key)) {
            this.pipelines.set(key, pipeline);
            this.compiled.background++;
          }
          return this.pipelines.get(key)!;
        },
        () => null,
      );
      this.queue = promise.then(() => undefined);
      this.pending.set(key, promise);
      void promise.finally(() => this.pending.delete(key));
    }
    return promise;
  }

  /**
   * Background compiles, those queued already included, start only once `gate` settles: a fit holds them until
   * its first step is done, which they would otherwise slow by taking a core from it.
   */
  holdBackgroundUntil(gate: Promise<unknown>): void {
    this.hold = Promise.all([this.hold, gate.catch(() => undefined)]);
  }

  /** Resolves when every background compile started so far has finished (benchmarks time full kernels only). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending.values());
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

/** A smaller-tiled kernel that computes exactly what the full one does (see Ops.matmul), run until the full one compiles. */
export interface QuickTwin {
  code: string;
  invocations: number;
}

/**
 * A kernel as a value: everything a Dispatch needs but its buffers. Built by a function of the sizes next to
 * each GPU op (src/gpu/kernels.ts, the layer modules' `kernels`), dispatched on buffers by `dispatch`, printed by
 * `npm run shaders` (src/bench/kernelRegistry.ts).
 */
export interface Kernel {
  /** Op name (the WGSL entry point) plus what it works on: the Dispatch's label. */
  label: string;
  /** Its WGSL. */
  code: string;
  /** The WGSL entry point. */
  entryPoint: string;
  /** Its bindings in WGSL order; buffers are bound by these names. */
  bindings: readonly Binding[];
  /** Invocations in all (the workgroup count is this over workgroupSize). */
  invocations: number;
  /** Invocations per workgroup, as its WGSL declares. */
  workgroupSize: number;
  /** Its arithmetic and the bytes it must move, for benchmarks. */
  cost: DispatchCost;
  /** A twin quick to compile that runs while this one compiles in the background (chosen matmuls). */
  quick?: QuickTwin;
}

/**
 * Builds a Dispatch of `kernel` on `buffers` (by binding name, bound in the order of its binding list). With a
 * quick twin, a kernel not compiled yet compiles in the background while the twin (quick to compile) runs in its
 * place; the dispatch switches to it once it is ready. Label and codeHash are the full kernel's throughout.
 */
export function dispatch(cache: PipelineCache, kernel: Kernel, buffers: Record<string, BufferSlice>): Dispatch {
  const { label, code, entryPoint, bindings, invocations, workgroupSize, cost, quick } = kernel;
  const bindGroup = cache.device.createBindGroup({
    label,
    layout: cache.layout(bindings).group,
    entries: inBindingOrder(entryPoint, bindings, buffers).map((b, binding) => ({
      binding,
      resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size ?? b.buffer.size - (b.offset ?? 0) },
    })),
  });
  const maxPerDimension = cache.device.limits.maxComputeWorkgroupsPerDimension;
  const full = quick ? cache.compiledPipeline(code, entryPoint) : cache.get(code, entryPoint, bindings);
  const result: Dispatch = {
    label,
    pipeline: full ?? cache.get(quick!.code, entryPoint, bindings),
    bindGroup,
    workgroups: dispatchSize(full ? invocations : quick!.invocations, workgroupSize, maxPerDimension),
    workgroupSize,
    cost,
    codeHash: cache.hash(code, entryPoint),
  };
  if (!full) {
    void cache.getAsync(code, entryPoint, bindings).then((pipeline) => {
      if (!pipeline) return; // the twin stays: it computes the same
      result.pipeline = pipeline;
      result.workgroups = dispatchSize(invocations, workgroupSize, maxPerDimension);
    });
  }
  return result;
}

export function encodeDispatches(pass: GPUComputePassEncoder, dispatches: readonly Dispatch[]): void {
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1]);
  }
}
