// Helpers shared by the kernel modules: how an invocation finds its index when a dispatch needs two dimensions.

/** WGSL: the flat invocation index for a dispatch laid out by `dispatchSize` (x up to the limit, then y). */
export const flatIndex = (workgroupSize: number) =>
  `gid.x + gid.y * groups.x * ${workgroupSize}u`;

/** Workgroup counts covering `invocations`, spilling into y past `maxPerDimension` (65535 by default). */
export function dispatchSize(invocations: number, workgroupSize: number, maxPerDimension = 65535): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= maxPerDimension) return [groups, 1];
  const y = Math.ceil(groups / maxPerDimension);
  return [Math.ceil(groups / y), y];
}

export const f32Literal = (x: number): string => {
  if (!Number.isFinite(x)) throw new Error(`WGSL constant must be finite, got ${x}`);
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
};

/**
 * WGSL literal of the f32 nearest 1/n. Kernels multiply by it rather than divide by a constant n: SwiftShader
 * compiles x / n as x · (1/n) while lavapipe divides, so only the multiply gives the same bits on both.
 */
export const reciprocalLiteral = (n: number): string => f32Literal(Math.fround(1 / n));

/** Code generation: `n` lines from `line(i)`, or rows × cols lines from `line(i, j)`, indented for a body. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
export const each = (n: number, line: (i: number) => string): string => range(n).map(line).join('\n  ');
export const grid = (rows: number, cols: number, line: (i: number, j: number) => string): string =>
  range(rows).flatMap((i) => range(cols).map((j) => line(i, j))).join('\n  ');

/**
 * WGSL: PCG's output permutation as a hash (Jarzynski & Olano, "Hash Functions for GPU Rendering", 2020), a
 * bijection on u32 that kernels chain over the words of a key (dropout's masks, augmentation's draws). Its u32
 * twin is pcgHash in src/gpu/random.ts.
 */
export const PCG_HASH = `
fn pcgHash(x: u32) -> u32 {
  let state = x * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}`;
