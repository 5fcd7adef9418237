// The tiled matmul family: a workgroup computes a BM × BN block of C (blockRows × blockCols). Slices of A (BM × BK)
// and B (BK × BN), BK = depth, go through workgroup memory, double-buffered: while the workgroup multiplies one
// slice out of workgroup memory, each invocation holds its share of the next slice in registers, so one barrier
// per slice suffices. Each invocation computes TM × TN outputs (tileRows × tileCols, both multiples of 4).
//
// Workgroup memory holds both slices as vec4s along m (As[k][m/4]) and n (Bs[k][n/4]); a row is padded by one
// vec4 so that the transposing stores of nn's A and nt's B spread over the banks. An invocation's rows are
// TM/4 groups of 4, spaced 4·TY apart (its columns likewise, 4·TX apart), so neighbouring invocations read
// neighbouring vec4s. A slice that must be transposed on its way in (its k runs along the loaded vec4: nn's A,
// nt's A and B) never has two invocations write lanes of one vec4 (WGSL lets a write to one lane touch the whole
// vector: a data race on some backends). transpose 'units' (default): an invocation reads a 4×4 unit (four
// rows' vec4s along k) and stores four whole vec4s along m (or n); fewer invocations load, each more.
// transpose 'scalars': every invocation loads one vec4 and stores its lanes into a slice declared as f32s,
// read back four at a time. Which is faster depends on the shape (measured on an H200: 'scalars' for a
// 128×500×784 u8 product, 'units' for the 4096-wide ones).
//
// Loads: vec4 (A and B bound as array<vec4f>, or u32 words of four u8 pixels) need the operand's contiguous
// dimension to be a multiple of 4: nn K and N, nt K, tn M and N. Scalar loads take any shape. Past the edge,
// rows and columns are clamped (their outputs are never stored) and k is zeroed (it adds nothing).
import { blockCount, loadA, MATMUL_ENTRY, rowsFromC, type MatmulShape, type MatmulVariant } from './matmulParts.js';
import { grid, range } from './common.js';

const LANES = ['x', 'y', 'z', 'w'];

export function tiledUnsupported(v: MatmulVariant, s: MatmulShape): string | null {
  const { blockRows: BM, blockCols: BN, depth: BK } = v.tiled!;
  const { tileRows: TM, tileCols: TN } = v;
  if (TM % 4 || TN % 4) return `tiled needs tileRows and tileCols multiples of 4, got ${TM}×${TN}`;
  if (!(BM >= TM && BN >= TN && BM % TM === 0 && BN % TN === 0)) return `block ${BM}×${BN} is not a whole number of ${TM}×${TN} tiles`;
  if (!(BK >= 4 && BK % 4 === 0 && BK <= 32)) return `depth must be a multiple of 4 up to 32, got ${BK}`;
  const threads = (BM / TM) * (BN / TN);
  if (v.workgroupSize !== threads) return `a ${BM}×${BN} block of ${TM}×${TN} tiles needs workgroupSize ${threads}, got ${v.workgroupSize}`;
  if (((BM * BK) / 4) % threads || ((BN * BK) / 4) % threads) return `the ${BM}×${BK} and ${BK}×${BN} slices do not split evenly into vec4s over ${threads} invocations`;
  if (v.transpose && v.transpose !== 'units' && v.transpose !== 'scalars') return `transpose must be units or scalars, got ${v.transpose}`;
  if (v.transpose === 'scalars' && v.form === 'tn') return 'the tn form transposes nothing: transpose scalars is for nn and nt';
  if (v.half !== undefined && v.half !== 'f16' && v.half !== 'packed') return `half must be f16 or packed, got ${String(v.half)}`;
  if (v.half && v.transpose === 'scalars') return 'half-precision slices are stored by vec4s: transpose units only';
  if (!v.vec4) return null;
  const { M, N, K } = s;
  if (v.form === 'nn' && (K % 4 || N % 4)) return `tiled vec4 nn needs K and N multiples of 4, got K=${K} N=${N}`;
  if (v.form === 'nt' && K % 4) return `tiled vec4 nt needs K a multiple of 4, got K=${K}`;
  if (v.form === 'tn' && (M % 4 || N % 4)) return `tiled vec4 tn needs M and N multiples of 4, got M=${M} N=${N}`;
  return null;
}

/** Two slices of A and B, rows padded by one vec4 (the same bytes declared as f32s or vec4s; halves: 8 per vec4). */
export function tiledWorkgroupBytes(v: MatmulVariant): number {
  const { blockRows: BM, blockCols: BN, depth: BK } = v.tiled!;
  return 2 * BK * (BM / 4 + 1 + BN / 4 + 1) * (v.half ? 8 : 16);
}

/** The WGSL a kernel with half-precision slices needs before everything else (an enable directive). */
export function tiledDirectives(v: MatmulVariant): string {
  return v.tiled && v.half === 'f16' ? 'enable f16;\n' : '';
}

/**
 * An operand as WGSL sees it: a row-major matrix [rows × cols] whose k dimension runs along its rows or its
 * columns. loadX4(r, c) returns elements c..c+3 of row r, clamped at the edges and zero past K.
 */
interface Operand {
  name: 'A' | 'B';
  rows: string;
  cols: string;
  kAlong: 'rows' | 'cols';
}

const operands = (v: MatmulVariant): [Operand, Operand] => [
  v.form === 'tn' ? { name: 'A', rows: 'K', cols: 'M', kAlong: 'rows' } : { name: 'A', rows: 'M', cols: 'K', kAlong: 'cols' },
  v.form === 'nt' ? { name: 'B', rows: 'N', cols: 'K', kAlong: 'cols' } : { name: 'B', rows: 'K', cols: 'N', kAlong: 'rows' },
];

function loader(v: MatmulVariant, s: MatmulShape, operand: Operand): string {
  // A module-scope helper: where M is not compiled in, it asks C.
  const x = { ...operand, rows: operand.rows === 'M' && rowsFromC(v) ? 'rowsOfC()' : operand.rows };
  const read = (index: string) => (x.name === 'A' ? loadA(v, s, index) : `B[${index}]`);
  const kIn = (c: string) => (x.kAlong === 'rows' ? 'r < K' : `${c} < K`);
  if (v.vec4) {
    return `fn load${x.name}4(r: u32, c: u32) -> vec4f {
  let v = ${read(`min(r, ${x.rows} - 1u) * (${x.cols} / 4u) + min(c, ${x.cols} - 4u) / 4u`)};
  return select(vec4f(0.0), v, ${kIn('c')});
}`;
  }
  return `fn load${x.name}1(r: u32, c: u32) -> f32 {
  return select(0.0, ${read(`min(r, ${x.rows} - 1u) * ${x.cols} + min(c, ${x.cols} - 1u)`)}, ${kIn('c')});
}
fn load${x.name}4(r: u32, c: u32) -> vec4f {
  return vec4f(${range(4).map((i) => `load${x.name}1(r, c + ${i}u)`).join(', ')});
}`;
}

/**
 * An operand's two slices in workgroup memory, `vec4s` long, readX(j): vec4 number j of them as f32, and
 * stageX(v): a vec4f as the slice holds it (rounded to f16 for half-precision slices).
 */
function slices(x: Operand, asScalars: boolean, vec4s: number, half: MatmulVariant['half']): string {
  const n = x.name;
  if (half === 'f16') {
    return `var<workgroup> ${n}s: array<vec4<f16>, ${vec4s}>;
fn read${n}(j: u32) -> vec4f { return vec4f(${n}s[j]); }
fn stage${n}(v: vec4f) -> vec4<f16> { return vec4<f16>(v); }`;
  }
  if (half === 'packed') {
    return `var<workgroup> ${n}s: array<vec2u, ${vec4s}>;
fn read${n}(j: u32) -> vec4f { let h = ${n}s[j]; return vec4f(unpack2x16float(h.x), unpack2x16float(h.y)); }
fn stage${n}(v: vec4f) -> vec2u { return vec2u(pack2x16float(v.xy), pack2x16float(v.zw)); }`;
  }
  if (!asScalars) return `var<workgroup> ${n}s: array<vec4f, ${vec4s}>;\nfn read${n}(j: u32) -> vec4f { return ${n}s[j]; }\nfn stage${n}(v: vec4f) -> vec4f { return v; }`;
  return `var<workgroup> ${x.name}s: array<f32, ${4 * vec4s}>;
fn read${x.name}(j: u32) -> vec4f { let at = j * 4u; return vec4f(${x.name}s[at], ${x.name}s[at + 1u], ${x.name}s[at + 2u], ${x.name}s[at + 3u]); }`;
}

export function tiledKernel(v: MatmulVariant, s: MatmulShape): string {
  const { blockRows: BM, blockCols: BN, depth: BK } = v.tiled!;
  const { tileRows: TM, tileCols: TN } = v;
  const TY = BM / TM;
  const TX = BN / TN;
  const T = TX * TY;
  const RG = TM / 4; // row groups of 4 per invocation
  const CG = TN / 4; // column groups of 4 per invocation
  const [a, b] = operands(v);
  const wideC = s.N % 4 === 0;
  const blocks = blockCount(v, s, 'BLOCKS', BM, 'BLOCKS_N');

  // How an operand's slice (span = its extent along m or n) comes in: vec4s straight into place when its k runs
  // along rows; else transposed, by 4×4 units (loads = units) or lane by lane into f32s (loads = vec4s).
  const byUnits = (x: Operand) => x.kAlong === 'cols' && v.transpose !== 'scalars';
  const byLanes = (x: Operand) => x.kAlong === 'cols' && v.transpose === 'scalars';
  const units = (span: number) => (span / 4) * (BK / 4);
  const perInvocation = (x: Operand, span: number) => Math.ceil((byUnits(x) ? units(span) : (span * BK) / 4) / T);
  const [perA, perB] = [perInvocation(a, BM), perInvocation(b, BN)];
  const registers = (x: Operand, j: number) => (byUnits(x) ? range(4).map((r) => `p${x.name}${j}_${r}`) : [`p${x.name}${j}`]);

  // block = blockRow or blockCol.
  const fetch = (x: Operand, j: number, span: number, block: string) => {
    if (byLanes(x)) return `{ let q = lid + ${j * T}u; p${x.name}${j} = load${x.name}4(${block} + q / ${BK / 4}u, k0 + (q % ${BK / 4}u) * 4u); }`;
    if (!byUnits(x)) return `{ let q = lid + ${j * T}u; p${x.name}${j} = load${x.name}4(k0 + q / ${span / 4}u, ${block} + (q % ${span / 4}u) * 4u); }`;
    const guard = units(span) % T ? `if (u < ${units(span)}u) ` : '';
    const rows = range(4).map((r) => `p${x.name}${j}_${r} = load${x.name}4(row + ${r}u, k);`).join(' ');
    return `{ let u = lid + ${j * T}u; ${guard}{ let row = ${block} + (u / ${BK / 4}u) * 4u; let k = k0 + (u % ${BK / 4}u) * 4u; ${rows} } }`;
  };
  // slot: which of the two slices (0 or 1) receives it.
  const stash = (x: Operand, j: number, span: number, slot: string) => {
    const S = `${x.name}S`;
    if (byLanes(x)) {
      // Element (k, i) is f32 number 4·(vec4 (k, i/4)) + i % 4 of the slice.
      const at = `(${slot} * BK * ${S} + (q % ${BK / 4}u) * 4u * ${S} + i / 4u) * 4u + i % 4u`;
      return `{ let q = lid + ${j * T}u; let i = q / ${BK / 4}u; let at = ${at}; ${range(4).map((l) => `${x.name}s[at + ${4 * l}u * ${S}] = p${x.name}${j}.${LANES[l]};`).join(' ')} }`;
    }
    if (!byUnits(x)) return `{ let q = lid + ${j * T}u; ${x.name}s[${slot} * BK * ${S} + (q / ${span / 4}u) * ${S} + q % ${span / 4}u] = stage${x.name}(p${x.name}${j}); }`;
    const guard = units(span) % T ? `if (u < ${units(span)}u) ` : '';
    const p = registers(x, j);
    const columns = range(4).map((l) => `${x.name}s[at + ${l}u * ${S}] = stage${x.name}(vec4f(${p.map((r) => `${r}.${LANES[l]}`).join(', ')}));`).join(' ');
    return `{ let u = lid + ${j * T}u; ${guard}{ let at = ${slot} * BK * ${S} + (u % ${BK / 4}u) * 4u * ${S} + u / ${BK / 4}u; ${columns} } }`;
  };

  const fetchAll = [...range(perA).map((j) => fetch(a, j, BM, 'blockRow')), ...range(perB).map((j) => fetch(b, j, BN, 'blockCol'))];
  const stashAll = (slot: string) => [...range(perA).map((j) => stash(a, j, BM, slot)), ...range(perB).map((j) => stash(b, j, BN, slot))];
  // One step along k, unrolled over the slice: TM/4 vec4s of A, TN/4 of B, an outer product into the tile.
  const multiply = range(BK).map((kk) => `{
        ${range(RG).map((g) => `let a${g} = readA(sliceA + ${kk}u * AS + ${g * TY}u + ty);`).join(' ')}
        ${range(CG).map((h) => `let b${h} = readB(sliceB + ${kk}u * BS + ${h * TX}u + tx);`).join(' ')}
        ${range(TM).map((i) => range(CG).map((h) => `acc${i}_${h} = fma(vec4f(a${Math.floor(i / 4)}.${LANES[i % 4]}), b${h}, acc${i}_${h});`).join(' ')).join('\n        ')}
      }`).join('\n      ');

  const row = (i: number) => `blockRow + ${Math.floor(i / 4) * 4 * TY}u + ty * 4u + ${i % 4}u`;
  const col = (h: number) => `blockCol + ${h * 4 * TX}u + tx * 4u`;
  const store = wideC
    ? grid(TM, CG, (i, h) => `{ let m = ${row(i)}; let n = ${col(h)}; if (m < M && n < N) { let o = m * (N / 4u) + n / 4u; C[o] = finish(acc${i}_${h}, n / 4u, o); } }`)
    : grid(TM, CG, (i, h) => `{ let m = ${row(i)}; let n = ${col(h)}; ${range(4).map((l) => `if (m < M && n + ${l}u < N) { let o = m * N + n + ${l}u; C[o] = finish(acc${i}_${h}.${LANES[l]}, n + ${l}u, o); }`).join(' ')} }`);

  return `
const BM = ${BM}u;
const BN = ${BN}u;
const BK = ${BK}u;
const AS = ${BM / 4 + 1}u; // vec4s per row of the A slice, padded
const BS = ${BN / 4 + 1}u;
const BLOCKS_N = ${Math.ceil(s.N / BN)}u;
${blocks.module}
const K_SLICES = ${Math.ceil(s.K / BK)}u;
${slices(a, byLanes(a), 2 * BK * (BM / 4 + 1), v.half)}
${slices(b, byLanes(b), 2 * BK * (BN / 4 + 1), v.half)}

${loader(v, s, a)}
${loader(v, s, b)}

@compute @workgroup_size(${T})
fn ${MATMUL_ENTRY[v.form]}(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  ${blocks.entry}
  // No early return before the last barrier: every invocation of the workgroup must reach each one.
  let block = min(wid.x + wid.y * groups.x, BLOCKS - 1u);
  let blockRow = (block / BLOCKS_N) * BM;
  let blockCol = (block % BLOCKS_N) * BN;
  let tx = lid % ${TX}u;
  let ty = lid / ${TX}u;
  ${grid(TM, CG, (i, h) => `var acc${i}_${h} = vec4f(0.0);`)}
  ${[...range(perA).flatMap((j) => registers(a, j)), ...range(perB).flatMap((j) => registers(b, j))].map((r) => `var ${r} = vec4f(0.0);`).join('\n  ')}
  {
    let k0 = 0u;
    ${fetchAll.join('\n    ')}
    ${stashAll('0u').join('\n    ')}
  }
  workgroupBarrier();
  for (var t = 0u; t < K_SLICES; t++) {
    let next = t + 1u < K_SLICES;
    if (next) {
      let k0 = (t + 1u) * BK;
      ${fetchAll.join('\n      ')}
    }
    {
      let sliceA = (t % 2u) * BK * AS;
      let sliceB = (t % 2u) * BK * BS;
      ${multiply}
    }
    if (next) {
      ${stashAll('((t + 1u) % 2u)').join('\n      ')}
    }
    workgroupBarrier();
  }
  if (wid.x + wid.y * groups.x >= BLOCKS) { return; }
  ${store}
}`;
}
