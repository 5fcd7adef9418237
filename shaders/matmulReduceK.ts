// The reduceK matmul family, for skinny products (few outputs, long K: the output layer's 128×10 over K = 500,
// its weight gradient 500×10 over K = 128). A register tile leaves most of a GPU idle there; instead one
// workgroup computes one TR × TC tile of C (tileRows × tileCols), its W invocations (workgroupSize, a power of
// two) taking every W-th k, then adding their partial sums pairwise in workgroup memory. The order of the
// additions is fixed, so results are deterministic (no float atomics), and the epilogue is fused after them.
// Scalar loads: any M, N, K.
import { blockCount, loadA, MATMUL_ENTRY, type MatmulShape, type MatmulVariant } from './matmulParts.js';
import { each, grid } from './common.js';

export function reduceKUnsupported(v: MatmulVariant, _s: MatmulShape): string | null {
  const W = v.workgroupSize;
  if (!(Number.isInteger(W) && W >= 2 && (W & (W - 1)) === 0)) return `reduceK needs a power-of-two workgroupSize ≥ 2, got ${W}`;
  if (v.vec4) return 'reduceK uses scalar loads';
  return null;
}

/** One partial sum per output of the tile per invocation. */
export const reduceKWorkgroupBytes = (v: MatmulVariant): number => v.tileRows * v.tileCols * v.workgroupSize * 4;

export function reduceKKernel(v: MatmulVariant, s: MatmulShape): string {
  const { tileRows: TR, tileCols: TC, workgroupSize: W } = v;
  const aIndex = (i: number) => (v.form === 'tn' ? `k * M + m${i}` : `m${i} * K + k`);
  const bIndex = (j: number) => (v.form === 'nt' ? `n${j} * K + k` : `k * N + n${j}`);
  // Output e = i·TC + j keeps its W partial sums contiguous: partial[e·W + invocation].
  const levels: number[] = [];
  for (let half = W / 2; half >= 1; half /= 2) levels.push(half);
  const tiles = blockCount(v, s, 'TILES', TR, 'TILES_N');
  return `
const TILES_N = ${Math.ceil(s.N / TC)}u;
${tiles.module}
const W = ${W}u;
var<workgroup> partial: array<f32, ${TR * TC * W}>;

@compute @workgroup_size(${W})
fn ${MATMUL_ENTRY[v.form]}(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  ${tiles.entry}
  // No early return before the last barrier: every invocation of the workgroup must reach each one.
  let tile = min(wid.x + wid.y * groups.x, TILES - 1u);
  let row0 = (tile / TILES_N) * ${TR}u;
  let col0 = (tile % TILES_N) * ${TC}u;
  ${each(TR, (i) => `let m${i} = min(row0 + ${i}u, M - 1u);`)}
  ${each(TC, (j) => `let n${j} = min(col0 + ${j}u, N - 1u);`)}
  ${grid(TR, TC, (i, j) => `var acc${i}_${j} = 0.0;`)}
  for (var k = lid; k < K; k += W) {
    ${each(TR, (i) => `let a${i} = ${loadA(v, s, aIndex(i))};`)}
    ${each(TC, (j) => `let b${j} = B[${bIndex(j)}];`)}
    ${grid(TR, TC, (i, j) => `acc${i}_${j} = fma(a${i}, b${j}, acc${i}_${j});`)}
  }
  ${grid(TR, TC, (i, j) => `partial[${(i * TC + j) * W}u + lid] = acc${i}_${j};`)}
  workgroupBarrier();
  ${levels.map((half) => `if (lid < ${half}u) {
    ${grid(TR, TC, (i, j) => `partial[${(i * TC + j) * W}u + lid] += partial[${(i * TC + j) * W + half}u + lid];`)}
  }
  workgroupBarrier();`).join('\n  ')}
  if (wid.x + wid.y * groups.x >= TILES) { return; }
  for (var e = lid; e < ${TR * TC}u; e += W) {
    let m = row0 + e / ${TC}u;
    let n = col0 + e % ${TC}u;
    if (m < M && n < N) { let o = m * N + n; C[o] = finish(partial[e * W], n, o); }
  }
}`;
}
