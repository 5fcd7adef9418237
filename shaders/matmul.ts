// Matmul in three forms and four families, one entry point per form. Every family shares the prologue below
// (sizes as WGSL constants, bindings, u8 pixel reads, the fused epilogue) and guards its own stores.
//
// Forms (all row-major; entry points matmulNN / matmulNT / matmulTN):
//   nn: C[M×N] = A[M×K] · B[K×N]      forward      (x · W)
//   nt: C[M×N] = A[M×K] · B[N×K]ᵀ     input grad   (dy · Wᵀ)
//   tn: C[M×N] = A[K×M]ᵀ · B[K×N]     weight grad  (xᵀ · dy)
//
// Families (see matmulFamily):
//   register  barrier-free: each invocation computes a tileRows × tileCols block of C in registers. With vec4,
//             loads (and for nn/tn stores) are vec4f: nn needs K%4 = N%4 = 0, nt needs K%4 = 0, tn needs
//             M%4 = N%4 = 0; tileCols must be a multiple of 4 (nn, tn), tileRows too for tn. Scalar: any shape.
//             The CPU-like design: it wins on software adapters.
//   tiled     (shaders/matmulTiled.ts) a workgroup computes a blockRows × blockCols block of C, staging
//             depth-deep slices of A and B in workgroup memory, double-buffered; each invocation computes
//             tileRows × tileCols of it. The classic GPU design, for big products.
//   reduceK   (shaders/matmulReduceK.ts) one workgroup per tileRows × tileCols tile of C; its invocations split
//             K and add their partial sums in workgroup memory, in a fixed order. For skinny products (few
//             outputs, long K) that would leave a GPU idle.
// Options:
//   inputU8   A holds raw u8 pixels packed four to a u32 (nn, tn); the kernel reads them as
//             x/255 · pixelScale + pixelShift, so no normalization pass is needed.
//   epilogue  none | bias (C += bias[n]) | biasActivation (C = f(C + bias[n]), f an activation's forward) |
//             activationBackward (C = the activation's backward with dy = C and its x and/or y, each shaped as
//             C, from activationInput / activationOutput: the gradient of the input of the activation whose
//             output fed this layer). The activation is the shape's (MatmulShape.activation, elementwise.ts).
// Out-of-range rows and columns are clamped on load (no branches in the loop) and skipped on store.
// N and K are WGSL constants; so is M for tn, while nn and nt read M from the bound C (rowsFromC), so one
// pipeline serves a product at every batch size.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, wgslBindings, type Binding } from './bindings.js';
import { each, flatIndex, grid } from './common.js';
import { activationForwardOf, activationGradBindings, activationGradOf, fusedActivationFunctions } from './elementwise.js';
import { blockCount, loadA, MATMUL_ENTRY, rowsFromC, type MatmulEpilogue, type MatmulForm, type MatmulShape, type MatmulVariant } from './matmulParts.js';
import { pixels4Read } from './portableMath.js';
import { reduceKKernel, reduceKUnsupported, reduceKWorkgroupBytes } from './matmulReduceK.js';
import { tiledDirectives, tiledKernel, tiledUnsupported, tiledWorkgroupBytes } from './matmulTiled.js';

export type { MatmulEpilogue, MatmulForm, MatmulShape, MatmulTiling, MatmulVariant } from './matmulParts.js';
export { MATMUL_ENTRY, rowsFromC } from './matmulParts.js';
export type MatmulFamily = 'register' | 'tiled' | 'reduceK';

export const matmulFamily = (v: MatmulVariant): MatmulFamily => (v.tiled ? 'tiled' : v.reduceK ? 'reduceK' : 'register');

/** Why a variant cannot run a shape, or null when it can. Device limits are checked by matmulExceedsDevice. */
export function matmulUnsupported(v: MatmulVariant, s: MatmulShape): string | null {
  const { M, N, K } = s;
  const epilogue = s.epilogue ?? 'none';
  if (![M, N, K].every((d) => Number.isInteger(d) && d >= 1)) return `sizes must be positive integers, got M=${M} N=${N} K=${K}`;
  if (!(Number.isInteger(v.tileRows) && Number.isInteger(v.tileCols) && v.tileRows >= 1 && v.tileCols >= 1) || v.tileRows * v.tileCols > 128) {
    return `tile ${v.tileRows}×${v.tileCols} out of range`;
  }
  if (s.inputU8 && v.form === 'nt') return 'inputU8 is for the nn and tn forms';
  if ((epilogue === 'bias' || epilogue === 'biasActivation') && v.form === 'tn') return `epilogue ${epilogue} is for nn and nt`;
  if ((epilogue === 'biasActivation' || epilogue === 'activationBackward') !== Boolean(s.activation)) return `epilogue ${epilogue} ${s.activation ? 'takes no' : 'needs an'} activation`;
  if (v.tiled && v.reduceK) return 'a variant is tiled or reduceK, not both';
  if (v.kUnroll !== undefined && (!Number.isInteger(v.kUnroll) || v.kUnroll < 1 || v.kUnroll > 8)) return `kUnroll must be 1..8, got ${v.kUnroll}`;
  if ((v.kUnroll ?? 1) > 1 && !(v.vec4 && v.form === 'tn' && matmulFamily(v) === 'register')) return 'kUnroll is for the register vec4 tn variant';
  if (v.transpose !== undefined && !v.tiled) return 'transpose is for the tiled family';
  if (v.half !== undefined && !v.tiled) return 'half-precision slices are for the tiled family';
  if (v.tiled) return tiledUnsupported(v, s);
  if (v.reduceK) return reduceKUnsupported(v, s);
  if (!v.vec4) return null;
  if (v.form === 'nn' && (K % 4 || N % 4)) return `vec4 nn needs K and N multiples of 4, got K=${K} N=${N}`;
  if (v.form === 'nt' && K % 4) return `vec4 nt needs K a multiple of 4, got K=${K}`;
  if (v.form === 'tn' && (M % 4 || N % 4)) return `vec4 tn needs M and N multiples of 4, got M=${M} N=${N}`;
  if (v.form !== 'nt' && v.tileCols % 4) return `vec4 ${v.form} needs tileCols a multiple of 4, got ${v.tileCols}`;
  if (v.form === 'tn' && v.tileRows % 4) return `vec4 tn needs tileRows a multiple of 4, got ${v.tileRows}`;
  return null;
}

/** The bindings, in order: the bias (bias, biasActivation) or the activation's x and/or y (activationBackward) sit between B and C. */
export function matmulBindings(s: Pick<MatmulShape, 'epilogue' | 'activation'> = {}): Binding[] {
  const epilogue = s.epilogue ?? 'none';
  const extra = epilogue === 'activationBackward' ? activationGradBindings(s.activation) : epilogue === 'none' ? [] : [input('bias')];
  return [input('A'), input('B'), ...extra, output('C')];
}

/** Bytes of workgroup memory a variant declares (0 for the register family). */
export function matmulWorkgroupBytes(v: MatmulVariant): number {
  if (v.tiled) return tiledWorkgroupBytes(v);
  if (v.reduceK) return reduceKWorkgroupBytes(v);
  return 0;
}

/** Why this device cannot run a variant (workgroup memory, invocations per workgroup), or null. */
export function matmulExceedsDevice(v: MatmulVariant, limits: GPUSupportedLimits): string | null {
  const bytes = matmulWorkgroupBytes(v);
  if (bytes > limits.maxComputeWorkgroupStorageSize) {
    return `needs ${bytes} bytes of workgroup memory, the device's maxComputeWorkgroupStorageSize is ${limits.maxComputeWorkgroupStorageSize}`;
  }
  if (v.workgroupSize > limits.maxComputeInvocationsPerWorkgroup || v.workgroupSize > limits.maxComputeWorkgroupSizeX) {
    return `needs ${v.workgroupSize} invocations per workgroup, the device allows ${Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX)}`;
  }
  return null;
}

export function matmulVariantName(v: MatmulVariant): string {
  const loads = v.vec4 ? 'vec4' : 'scalar';
  if (v.tiled) {
    const { blockRows, blockCols, depth } = v.tiled;
    const half = v.half === 'f16' ? '-f16' : v.half === 'packed' ? '-f16packed' : '';
    return `${v.form}-tiled-${loads}-${blockRows}x${blockCols}x${depth}-${v.tileRows}x${v.tileCols}-wg${v.workgroupSize}${v.transpose === 'scalars' ? '-ts' : ''}${half}`;
  }
  if (v.reduceK) return `${v.form}-reduceK-${v.tileRows}x${v.tileCols}-wg${v.workgroupSize}`;
  const unroll = v.kUnroll && v.kUnroll > 1 ? `-k${v.kUnroll}` : '';
  return `${v.form}-${loads}-${v.tileRows}x${v.tileCols}${unroll}-wg${v.workgroupSize}`;
}

/** The variant a name from matmulVariantName stands for, or null when the name is not one. */
export function parseMatmulVariant(name: string): MatmulVariant | null {
  const n = (x: string) => Number(x);
  let m = name.match(/^(nn|nt|tn)-tiled-(vec4|scalar)-(\d+)x(\d+)x(\d+)-(\d+)x(\d+)-wg(\d+)(-ts)?(-f16|-f16packed)?$/);
  if (m) {
    const tiled = { blockRows: n(m[3]), blockCols: n(m[4]), depth: n(m[5]) };
    const half = m[10] === '-f16' ? { half: 'f16' as const } : m[10] === '-f16packed' ? { half: 'packed' as const } : {};
    return { form: m[1] as MatmulForm, vec4: m[2] === 'vec4', tileRows: n(m[6]), tileCols: n(m[7]), workgroupSize: n(m[8]), tiled, ...(m[9] ? { transpose: 'scalars' as const } : {}), ...half };
  }
  m = name.match(/^(nn|nt|tn)-reduceK-(\d+)x(\d+)-wg(\d+)$/);
  if (m) return { form: m[1] as MatmulForm, vec4: false, tileRows: n(m[2]), tileCols: n(m[3]), workgroupSize: n(m[4]), reduceK: true };
  m = name.match(/^(nn|nt|tn)-(vec4|scalar)-(\d+)x(\d+)(?:-k(\d+))?-wg(\d+)$/);
  if (m) return { form: m[1] as MatmulForm, vec4: m[2] === 'vec4', tileRows: n(m[3]), tileCols: n(m[4]), workgroupSize: n(m[6]), ...(m[5] ? { kUnroll: n(m[5]) } : {}) };
  return null;
}

/** C blocks (tiled) or tiles (reduceK) a dispatch covers, one workgroup each. */
export function matmulBlocks(v: MatmulVariant, s: MatmulShape): number {
  const rows = v.tiled ? v.tiled.blockRows : v.tileRows;
  const cols = v.tiled ? v.tiled.blockCols : v.tileCols;
  return Math.ceil(s.M / rows) * Math.ceil(s.N / cols);
}

/** Invocations a dispatch needs: one per C tile, or for the workgroup families a workgroup per block. */
export function matmulTiles(v: MatmulVariant, s: MatmulShape): number {
  if (matmulFamily(v) !== 'register') return matmulBlocks(v, s) * v.workgroupSize;
  return Math.ceil(s.M / v.tileRows) * Math.ceil(s.N / v.tileCols);
}

/** Whether C (and bias, mask) are bound as vec4f along n. */
function wideC(v: MatmulVariant, s: MatmulShape): boolean {
  if (v.tiled) return s.N % 4 === 0;
  if (v.reduceK) return false;
  return v.vec4 && v.form !== 'nt';
}

export function matmulShader(v: MatmulVariant, s: MatmulShape): string {
  const problem = matmulUnsupported(v, s);
  if (problem) throw new Error(`matmul ${matmulVariantName(v)} cannot run M=${s.M} N=${s.N} K=${s.K}: ${problem}`);
  const epilogue = s.epilogue ?? 'none';
  const elem = wideC(v, s) ? 'vec4f' : 'f32';
  const aType = s.inputU8 ? 'u32' : v.vec4 ? 'vec4f' : 'f32';
  const bType = v.vec4 ? 'vec4f' : 'f32';
  const family = matmulFamily(v);
  const kernel = family === 'tiled' ? tiledKernel(v, s) : family === 'reduceK' ? reduceKKernel(v, s) : registerKernel(v, s);
  // nn, nt: M from C's bound length (rowsFromC); C is bound at exactly M×N by Ops.matmul.
  const rows = rowsFromC(v) ? `fn rowsOfC() -> u32 { return arrayLength(&C) / ${elem === 'vec4f' ? '(N / 4u)' : 'N'}; }` : `const M = ${s.M}u;`;
  return wgsl`${tiledDirectives(v)}
${rows}
const N = ${s.N}u;
const K = ${s.K}u;

${wgslBindings(matmulBindings(s), { A: aType, B: bType, C: elem, bias: elem, activationInput: elem, activationOutput: elem })}
${fusedActivationFunctions(s.activation, elem)}

#if ${Boolean(s.inputU8)}
// Four u8 pixels of one u32, as x/255 (then standardized when asked).
${pixels4Read({ pixelScale: s.pixelScale ?? 1, pixelShift: s.pixelShift ?? 0 })}
fn pixel(index: u32) -> f32 { return pixels4(A[index / 4u])[index % 4u]; }
#endif

// The fused epilogue; n is the column (of vec4s when C is vec4), index the element of C.
fn finish(acc: ${elem}, n: u32, index: u32) -> ${elem} {
#if ${epilogue === 'bias'}
  return acc + bias[n];
#elif ${epilogue === 'biasActivation'}
  return ${activationForwardOf(s.activation, 'acc + bias[n]', elem)};
#elif ${epilogue === 'activationBackward'}
  return ${activationGradOf(s.activation, 'acc', 'index', elem)};
#else
  return acc;
#endif
}
${kernel}`;
}

function registerKernel(v: MatmulVariant, s: MatmulShape): string {
  const body = v.vec4 ? vec4Body(v, s) : scalarBody(v, s);
  const tiles = blockCount(v, s, 'TILES', v.tileRows, 'TILES_N');
  return `
const TILES_N = ${Math.ceil(s.N / v.tileCols)}u;
${tiles.module}

@compute @workgroup_size(${v.workgroupSize})
fn ${MATMUL_ENTRY[v.form]}(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  ${tiles.entry}
  let tile = ${flatIndex(v.workgroupSize)};
  if (tile >= TILES) { return; }
  let row0 = (tile / TILES_N) * ${v.tileRows}u;
  let col0 = (tile % TILES_N) * ${v.tileCols}u;
  ${body}
}`;
}

function scalarBody(v: MatmulVariant, s: MatmulShape): string {
  const { tileRows: TR, tileCols: TC } = v;
  // Element (m, k) of the left operand and (k, n) of the right one, per form.
  const aIndex = (i: number) => (v.form === 'tn' ? `k * M + m${i}` : `m${i} * K + k`);
  const bIndex = (j: number) => (v.form === 'nt' ? `n${j} * K + k` : `k * N + n${j}`);
  return `${each(TR, (i) => `let m${i} = min(row0 + ${i}u, M - 1u);`)}
  ${each(TC, (j) => `let n${j} = min(col0 + ${j}u, N - 1u);`)}
  ${grid(TR, TC, (i, j) => `var acc${i}_${j} = 0.0;`)}
  for (var k = 0u; k < K; k++) {
    ${each(TR, (i) => `let a${i} = ${loadA(v, s, aIndex(i))};`)}
    ${each(TC, (j) => `let b${j} = B[${bIndex(j)}];`)}
    ${grid(TR, TC, (i, j) => `acc${i}_${j} = fma(a${i}, b${j}, acc${i}_${j});`)}
  }
  ${grid(TR, TC, (i, j) => `if (row0 + ${i}u < M && col0 + ${j}u < N) { let o = (row0 + ${i}u) * N + col0 + ${j}u; C[o] = finish(acc${i}_${j}, col0 + ${j}u, o); }`)}`;
}

function vec4Body(v: MatmulVariant, s: MatmulShape): string {
  if (v.form === 'nn') return vec4BodyNN(v, s);
  if (v.form === 'tn') return vec4BodyTN(v, s);
  return vec4BodyNT(v, s);
}

// nn: per step of 4 along k, one vec4 of A per row (4 k's) and 4 vec4 rows of B per column group.
function vec4BodyNN(v: MatmulVariant, s: MatmulShape): string {
  const TR = v.tileRows;
  const TC4 = v.tileCols / 4;
  const lanes = ['x', 'y', 'z', 'w'];
  return `const K4 = K / 4u;
  const N4 = N / 4u;
  let col4 = col0 / 4u;
  ${each(TR, (i) => `let aRow${i} = min(row0 + ${i}u, M - 1u) * K4;`)}
  ${each(TC4, (j) => `let n${j} = min(col4 + ${j}u, N4 - 1u);`)}
  ${grid(TR, TC4, (i, j) => `var acc${i}_${j} = vec4f(0.0);`)}
  for (var k4 = 0u; k4 < K4; k4++) {
    let bRow = k4 * 4u * N4;
    ${grid(4, TC4, (r, j) => `let b${r}_${j} = B[bRow + ${r}u * N4 + n${j}];`)}
    ${each(TR, (i) => `let a${i} = ${loadA(v, s, `aRow${i} + k4`)};`)}
    ${grid(TR, TC4, (i, j) => `acc${i}_${j} = ${lanes.reduce((acc, lane, r) => `fma(vec4f(a${i}.${lane}), b${r}_${j}, ${acc})`, `acc${i}_${j}`)};`)}
  }
  ${grid(TR, TC4, (i, j) => `if (row0 + ${i}u < M && col4 + ${j}u < N4) { let o = (row0 + ${i}u) * N4 + col4 + ${j}u; C[o] = finish(acc${i}_${j}, col4 + ${j}u, o); }`)}`;
}

// tn: per k, vec4s of A along m (4 rows of C each) and of B along n; outer-product accumulate.
function vec4BodyTN(v: MatmulVariant, s: MatmulShape): string {
  const TR4 = v.tileRows / 4;
  const TC4 = v.tileCols / 4;
  const lanes = ['x', 'y', 'z', 'w'];
  const unroll = v.kUnroll ?? 1;
  // One step along k: a vec4 of A per 4 rows, a vec4 of B per 4 columns, an outer product into the tile.
  const stepK = (k: string, tag: string) => [
    each(TR4, (p) => `let a${p}${tag} = ${loadA(v, s, `(${k}) * M4 + m${p}`)};`),
    each(TC4, (j) => `let b${j}${tag} = B[(${k}) * N4 + n${j}];`),
    grid(TR4 * 4, TC4, (i, j) => `acc${i}_${j} = fma(vec4f(a${Math.floor(i / 4)}${tag}.${lanes[i % 4]}), b${j}${tag}, acc${i}_${j});`),
  ].join('\n    ');
  return `const M4 = M / 4u;
  const N4 = N / 4u;
  let col4 = col0 / 4u;
  ${each(TR4, (p) => `let m${p} = min(row0 / 4u + ${p}u, M4 - 1u);`)}
  ${each(TC4, (j) => `let n${j} = min(col4 + ${j}u, N4 - 1u);`)}
  ${grid(TR4 * 4, TC4, (i, j) => `var acc${i}_${j} = vec4f(0.0);`)}
  var k = 0u;
  for (; k + ${unroll}u <= K; k += ${unroll}u) {
    ${Array.from({ length: unroll }, (_, u) => stepK(`k + ${u}u`, `_${u}`)).join('\n    ')}
  }
  for (; k < K; k++) {
    ${stepK('k', '')}
  }
  ${grid(TR4 * 4, TC4, (i, j) => `if (row0 + ${i}u < M && col4 + ${j}u < N4) { let o = (row0 + ${i}u) * N4 + col4 + ${j}u; C[o] = finish(acc${i}_${j}, col4 + ${j}u, o); }`)}`;
}

// nt: both operands run along k, so each output is a sum of vec4 dot products.
function vec4BodyNT(v: MatmulVariant, _s: MatmulShape): string {
  const { tileRows: TR, tileCols: TC } = v;
  return `const K4 = K / 4u;
  ${each(TR, (i) => `let aRow${i} = min(row0 + ${i}u, M - 1u) * K4;`)}
  ${each(TC, (j) => `let bRow${j} = min(col0 + ${j}u, N - 1u) * K4;`)}
  ${grid(TR, TC, (i, j) => `var acc${i}_${j} = vec4f(0.0);`)}
  for (var k4 = 0u; k4 < K4; k4++) {
    ${each(TR, (i) => `let a${i} = A[aRow${i} + k4];`)}
    ${each(TC, (j) => `let b${j} = B[bRow${j} + k4];`)}
    ${grid(TR, TC, (i, j) => `acc${i}_${j} = fma(a${i}, b${j}, acc${i}_${j});`)}
  }
  ${grid(TR, TC, (i, j) => `if (row0 + ${i}u < M && col0 + ${j}u < N) { let o = (row0 + ${i}u) * N + col0 + ${j}u; let a = acc${i}_${j}; C[o] = finish(a.x + a.y + a.z + a.w, col0 + ${j}u, o); }`)}`;
}
