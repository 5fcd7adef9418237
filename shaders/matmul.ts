// Register-tiled matmul, barrier-free: each invocation computes a tileRows × tileCols block of C in registers.
//
// Forms (all row-major; entry points matmulNN / matmulNT / matmulTN):
//   nn: C[M×N] = A[M×K] · B[K×N]      forward      (x · W)
//   nt: C[M×N] = A[M×K] · B[N×K]ᵀ     input grad   (dy · Wᵀ)
//   tn: C[M×N] = A[K×M]ᵀ · B[K×N]     weight grad  (xᵀ · dy)
//
// Variants:
//   vec4      loads (and for nn/tn stores) vec4f. Shapes: nn needs K%4 = N%4 = 0; nt needs K%4 = 0;
//             tn needs M%4 = N%4 = 0. tileCols must be a multiple of 4 (nn, tn), tileRows too for tn.
//             The scalar variant takes any M, N, K ≥ 1.
//   inputU8   A holds raw u8 pixels packed four to a u32 (nn, tn); the kernel reads them as
//             x/255 · pixelScale + pixelShift, so no normalization pass is needed.
//   epilogue  none | bias (C += bias[n]) | biasRelu (C = max(C + bias[n], 0)) | reluMask (C *= mask > 0,
//             the ReLU backward with mask = the layer's post-ReLU output, shape of C).
//   staged    (scalar loads) a workgroup of 8×8 invocations computes a (8·tileRows)×(8·tileCols) block, staging
//             16-deep slices of A and B in workgroup memory between barriers: the classic GPU tiling, for
//             adapters where shared memory beats re-reading global memory. workgroupSize must be 64.
// Out-of-range rows and columns are clamped on load (no branches in the loop) and skipped on store.
// Sizes are WGSL constants: a pipeline serves one shape.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { f32Literal, flatIndex } from './common.js';

export type MatmulForm = 'nn' | 'nt' | 'tn';
export type MatmulEpilogue = 'none' | 'bias' | 'biasRelu' | 'reluMask';

export interface MatmulVariant {
  form: MatmulForm;
  tileRows: number;
  tileCols: number;
  workgroupSize: number;
  vec4: boolean;
  /** tn vec4 only: steps along k per loop iteration (1 or more; a tail loop takes the rest). Default 1. */
  kUnroll?: number;
  /** Stage A and B slices in workgroup memory (scalar loads, 8×8 invocations per workgroup). Default false. */
  staged?: boolean;
}

/** The staged variant's geometry: 8×8 invocations, slices 16 deep along k. */
const STAGE_THREADS = 8;
const STAGE_DEPTH = 16;

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  inputU8?: boolean;
  epilogue?: MatmulEpilogue;
  /** Applied to u8 pixels after /255 (standardization): x' = x·pixelScale + pixelShift. */
  pixelScale?: number;
  pixelShift?: number;
}

export const MATMUL_ENTRY: Record<MatmulForm, string> = { nn: 'matmulNN', nt: 'matmulNT', tn: 'matmulTN' };

/** Why a variant cannot run a shape, or null when it can. */
export function matmulUnsupported(v: MatmulVariant, s: MatmulShape): string | null {
  const { M, N, K } = s;
  const epilogue = s.epilogue ?? 'none';
  if (![M, N, K].every((d) => Number.isInteger(d) && d >= 1)) return `sizes must be positive integers, got M=${M} N=${N} K=${K}`;
  if (v.tileRows < 1 || v.tileCols < 1 || v.tileRows * v.tileCols > 128) return `tile ${v.tileRows}×${v.tileCols} out of range`;
  if (s.inputU8 && v.form === 'nt') return 'inputU8 is for the nn and tn forms';
  if (v.kUnroll !== undefined && (!Number.isInteger(v.kUnroll) || v.kUnroll < 1 || v.kUnroll > 8)) return `kUnroll must be 1..8, got ${v.kUnroll}`;
  if ((v.kUnroll ?? 1) > 1 && !(v.vec4 && v.form === 'tn')) return 'kUnroll is for the vec4 tn variant';
  if (v.staged && v.vec4) return 'the staged variant uses scalar loads';
  if (v.staged && v.workgroupSize !== STAGE_THREADS * STAGE_THREADS) return `the staged variant needs workgroupSize ${STAGE_THREADS * STAGE_THREADS}`;
  if ((epilogue === 'bias' || epilogue === 'biasRelu') && v.form === 'tn') return `epilogue ${epilogue} is for nn and nt`;
  if (!v.vec4) return null;
  if (v.form === 'nn' && (K % 4 || N % 4)) return `vec4 nn needs K and N multiples of 4, got K=${K} N=${N}`;
  if (v.form === 'nt' && K % 4) return `vec4 nt needs K a multiple of 4, got K=${K}`;
  if (v.form === 'tn' && (M % 4 || N % 4)) return `vec4 tn needs M and N multiples of 4, got M=${M} N=${N}`;
  if (v.form !== 'nt' && v.tileCols % 4) return `vec4 ${v.form} needs tileCols a multiple of 4, got ${v.tileCols}`;
  if (v.form === 'tn' && v.tileRows % 4) return `vec4 tn needs tileRows a multiple of 4, got ${v.tileRows}`;
  return null;
}

export function matmulVariantName(v: MatmulVariant): string {
  const unroll = v.kUnroll && v.kUnroll > 1 ? `-k${v.kUnroll}` : '';
  const loads = v.staged ? 'staged' : v.vec4 ? 'vec4' : 'scalar';
  return `${v.form}-${loads}-${v.tileRows}x${v.tileCols}${unroll}-wg${v.workgroupSize}`;
}

/** Invocations a dispatch needs: one per C tile, or for the staged variant one workgroup per C block. */
export function matmulTiles(v: MatmulVariant, s: MatmulShape): number {
  if (v.staged) {
    const blocks = Math.ceil(s.M / (STAGE_THREADS * v.tileRows)) * Math.ceil(s.N / (STAGE_THREADS * v.tileCols));
    return blocks * v.workgroupSize;
  }
  return Math.ceil(s.M / v.tileRows) * Math.ceil(s.N / v.tileCols);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const each = (n: number, line: (i: number) => string) => range(n).map(line).join('\n  ');
const grid = (rows: number, cols: number, line: (i: number, j: number) => string) =>
  range(rows).flatMap((i) => range(cols).map((j) => line(i, j))).join('\n  ');

export function matmulShader(v: MatmulVariant, s: MatmulShape): string {
  const problem = matmulUnsupported(v, s);
  if (problem) throw new Error(`matmul ${matmulVariantName(v)} cannot run M=${s.M} N=${s.N} K=${s.K}: ${problem}`);
  const epilogue = s.epilogue ?? 'none';
  const body = v.staged ? '' : v.vec4 ? vec4Body(v, s) : scalarBody(v, s);
  const wideC = v.vec4 && v.form !== 'nt'; // C, bias and mask are vec4 along n
  const elem = wideC ? 'vec4f' : 'f32';
  const aType = s.inputU8 ? 'u32' : v.vec4 ? 'vec4f' : 'f32';
  const bType = v.vec4 ? 'vec4f' : 'f32';
  const tilesN = Math.ceil(s.N / v.tileCols);
  return wgsl`
const M = ${s.M}u;
const N = ${s.N}u;
const K = ${s.K}u;
const TILES_N = ${tilesN}u;
const TILES = ${matmulTiles(v, s)}u;
const PIXEL_SCALE = ${f32Literal(s.pixelScale ?? 1)};
const PIXEL_SHIFT = ${f32Literal(s.pixelShift ?? 0)};

@group(0) @binding(0) var<storage, read> A: array<${aType}>;
@group(0) @binding(1) var<storage, read> B: array<${bType}>;
#if ${epilogue === 'none'}
@group(0) @binding(2) var<storage, read_write> C: array<${elem}>;
#elif ${epilogue === 'reluMask'}
@group(0) @binding(2) var<storage, read> mask: array<${elem}>;
@group(0) @binding(3) var<storage, read_write> C: array<${elem}>;
#else
@group(0) @binding(2) var<storage, read> bias: array<${elem}>;
@group(0) @binding(3) var<storage, read_write> C: array<${elem}>;
#endif

#if ${Boolean(s.inputU8)}
// Four u8 pixels of one u32, as x/255 (then standardized when asked).
fn pixels4(word: u32) -> vec4f { return unpack4x8unorm(word) * PIXEL_SCALE + PIXEL_SHIFT; }
fn pixel(index: u32) -> f32 { return pixels4(A[index / 4u])[index % 4u]; }
#endif

fn finish(acc: ${elem}, n: u32, index: u32) -> ${elem} {
#if ${epilogue === 'bias'}
  return acc + bias[n];
#elif ${epilogue === 'biasRelu'}
  return max(acc + bias[n], ${elem}(0.0));
#elif ${epilogue === 'reluMask'}
  return select(${elem}(0.0), acc, mask[index] > ${elem}(0.0));
#else
  return acc;
#endif
}

#if ${Boolean(v.staged)}
${v.staged ? stagedKernel(v, s) : ''}
#else
@compute @workgroup_size(${v.workgroupSize})
fn ${MATMUL_ENTRY[v.form]}(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let tile = ${flatIndex(v.workgroupSize)};
  if (tile >= TILES) { return; }
  let row0 = (tile / TILES_N) * ${v.tileRows}u;
  let col0 = (tile % TILES_N) * ${v.tileCols}u;
  ${body}
}
#endif
`;
}

/** Loads of A as written in WGSL: plain, or unpacked from u8 pixels. */
function loadA(v: MatmulVariant, s: MatmulShape, index: string): string {
  if (!s.inputU8) return `A[${index}]`;
  return v.vec4 ? `pixels4(A[${index}])` : `pixel(${index})`;
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

// staged: slices A[BM×16] and B[16×BN] go through workgroup memory; each invocation then reads its rows and
// columns from there. Loads past M, N or K are clamped and multiplied by zero; stores past M or N are skipped.
function stagedKernel(v: MatmulVariant, s: MatmulShape): string {
  const { tileRows: TR, tileCols: TC } = v;
  const BM = STAGE_THREADS * TR;
  const BN = STAGE_THREADS * TC;
  const KT = STAGE_DEPTH;
  const aIndex = (m: string, k: string) => (v.form === 'tn' ? `${k} * M + ${m}` : `${m} * K + ${k}`);
  const bIndex = (k: string, n: string) => (v.form === 'nt' ? `${n} * K + ${k}` : `${k} * N + ${n}`);
  return `const BM = ${BM}u;
const BN = ${BN}u;
const KT = ${KT}u;
const BLOCKS_N = ${Math.ceil(s.N / BN)}u;
const BLOCKS = ${Math.ceil(s.M / BM) * Math.ceil(s.N / BN)}u;
var<workgroup> As: array<f32, ${BM * KT}>;
var<workgroup> Bs: array<f32, ${KT * BN}>;

@compute @workgroup_size(${v.workgroupSize})
fn ${MATMUL_ENTRY[v.form]}(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  // No early return: every invocation of the workgroup must reach each barrier.
  let block = min(wid.x + wid.y * groups.x, BLOCKS - 1u);
  let blockRow = (block / BLOCKS_N) * BM;
  let blockCol = (block % BLOCKS_N) * BN;
  let ty = lid / ${STAGE_THREADS}u;
  let tx = lid % ${STAGE_THREADS}u;
  ${grid(TR, TC, (i, j) => `var acc${i}_${j} = 0.0;`)}
  for (var k0 = 0u; k0 < K; k0 += KT) {
    for (var i = lid; i < BM * KT; i += ${v.workgroupSize}u) {
      let m = min(blockRow + i / KT, M - 1u);
      let k = k0 + i % KT;
      As[i] = select(0.0, ${loadA(v, s, aIndex('m', 'min(k, K - 1u)'))}, k < K);
    }
    for (var i = lid; i < KT * BN; i += ${v.workgroupSize}u) {
      let n = min(blockCol + i % BN, N - 1u);
      let k = k0 + i / BN;
      Bs[i] = select(0.0, B[${bIndex('min(k, K - 1u)', 'n')}], k < K);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < KT; kk++) {
      ${each(TR, (i) => `let a${i} = As[(ty * ${TR}u + ${i}u) * KT + kk];`)}
      ${each(TC, (j) => `let b${j} = Bs[kk * BN + tx * ${TC}u + ${j}u];`)}
      ${grid(TR, TC, (i, j) => `acc${i}_${j} = fma(a${i}, b${j}, acc${i}_${j});`)}
    }
    workgroupBarrier();
  }
  if (wid.x + wid.y * groups.x >= BLOCKS) { return; }
  let row0 = blockRow + ty * ${TR}u;
  let col0 = blockCol + tx * ${TC}u;
  ${grid(TR, TC, (i, j) => `if (row0 + ${i}u < M && col0 + ${j}u < N) { let o = (row0 + ${i}u) * N + col0 + ${j}u; C[o] = finish(acc${i}_${j}, col0 + ${j}u, o); }`)}
}`;
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
    ${range(unroll).map((u) => stepK(`k + ${u}u`, `_${u}`)).join('\n    ')}
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
