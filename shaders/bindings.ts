// A kernel's bindings (group 0) in the order its WGSL declares them: read-only inputs, read-write outputs,
// then one uniform block. Each kernel module exports its list; Ops binds buffers by these names, and a test
// reads the names and access modes back out of the WGSL, so the two cannot drift apart.

export type Access = 'read' | 'read_write' | 'uniform';

export interface Binding {
  name: string;
  access: Access;
}

export const input = (name: string): Binding => ({ name, access: 'read' });
export const output = (name: string): Binding => ({ name, access: 'read_write' });
export const uniform = (name: string): Binding => ({ name, access: 'uniform' });

/** The buffers named by `bindings`, in their order; a missing or extra name is an error that names it. */
export function inBindingOrder<T>(kernel: string, bindings: readonly Binding[], buffers: Record<string, T>): T[] {
  const extra = Object.keys(buffers).filter((name) => !bindings.some((b) => b.name === name));
  if (extra.length) throw new Error(`${kernel} has no binding named ${extra.join(', ')} (it binds ${bindings.map((b) => b.name).join(', ')})`);
  return bindings.map((b) => {
    const buffer = buffers[b.name];
    if (buffer === undefined) throw new Error(`${kernel} needs a buffer for its binding '${b.name}'`);
    return buffer;
  });
}

/** The bindings of group 0 as a WGSL module declares them, in binding order. */
export function declaredBindings(code: string): Binding[] {
  const found: [number, Binding][] = [];
  for (const m of code.matchAll(/@group\(0\)\s*@binding\((\d+)\)\s*var<(storage,\s*(read|read_write)|uniform)>\s*(\w+)/g)) {
    found.push([Number(m[1]), { name: m[4], access: (m[3] ?? 'uniform') as Access }]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, b]) => b);
}

/** A uniform block's bytes with f32 and u32 views on them, made once and packed again at every step. */
export class UniformWords {
  readonly buffer: ArrayBuffer;
  readonly f32: Float32Array;
  readonly u32: Uint32Array;

  constructor(bytes: number) {
    this.buffer = new ArrayBuffer(bytes);
    this.f32 = new Float32Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
  }
}

/**
 * WGSL declarations of a kernel's bindings, in their order: storage arrays of f32 unless `types` names another
 * element type (u32 pixels, vec2f statistics), uniforms of struct Batch unless named. Kernels declare their
 * bindings with this, from the same list Ops binds by, so the two cannot drift apart.
 */
export function wgslBindings(bindings: readonly Binding[], types: Record<string, string> = {}): string {
  return bindings.map((b, i) => {
    const head = `@group(0) @binding(${i})`;
    if (b.access === 'uniform') return `${head} var<uniform> ${b.name}: ${types[b.name] ?? 'Batch'};`;
    return `${head} var<storage, ${b.access}> ${b.name}: array<${types[b.name] ?? 'f32'}>;`;
  }).join('\n');
}
