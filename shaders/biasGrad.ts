// Bias gradient: the column sum of the output gradient. dBias[N] = Σ_m dY[M×N][m, n].
// Variants: workgroupSize; vec4 (four columns per invocation, needs N % 4 = 0) or scalar (any N); and
//   perColumn   one invocation per column (group), looping over all M rows: no barriers (software adapters).
//   reduceRows  one workgroup per 8 columns (groups): its invocations split the rows, 8 neighbours reading
//               neighbouring columns of a row, then add their partial sums pairwise in workgroup memory, so a
//               GPU runs M / (workgroupSize / 8) rows per invocation instead of M. workgroupSize: a power of
//               two ≥ 16.
// Both sum in a fixed order: deterministic.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, type Binding } from './bindings.js';
import { flatIndex } from './common.js';

/** A bias-gradient kernel variant (column sums of dY). */
export interface BiasGradVariant {
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Sum vec4 column groups rather than single columns. */
  vec4: boolean;
  /** Split the rows across a workgroup (see above). Default false. */
  reduceRows?: boolean;
}

/** Columns (or vec4 column groups) per workgroup of the reduceRows variant. */
const COLUMNS_PER_GROUP = 8;

export const BIAS_GRAD_BINDINGS: Binding[] = [input('dY'), output('dBias')];

export function biasGradUnsupported(v: BiasGradVariant, M: number, N: number): string | null {
  if (!(M >= 1 && N >= 1)) return `sizes must be positive, got M=${M} N=${N}`;
  if (v.vec4 && N % 4) return `vec4 biasGrad needs N a multiple of 4, got N=${N}`;
  const W = v.workgroupSize;
  if (v.reduceRows && !(W >= 2 * COLUMNS_PER_GROUP && (W & (W - 1)) === 0)) return `reduceRows needs a power-of-two workgroupSize ≥ 16, got ${W}`;
  return null;
}

const columnsOf = (v: BiasGradVariant, N: number) => (v.vec4 ? N / 4 : N);

/** Invocations a dispatch needs: one per column (group), or a workgroup per 8 of them. */
export const biasGradInvocations = (v: BiasGradVariant, N: number) =>
  v.reduceRows ? Math.ceil(columnsOf(v, N) / COLUMNS_PER_GROUP) * v.workgroupSize : columnsOf(v, N);

export const biasGradVariantName = (v: BiasGradVariant) => `biasGrad-${v.reduceRows ? 'reduceRows' : 'perColumn'}-${v.vec4 ? 'vec4' : 'scalar'}-wg${v.workgroupSize}`;

export function biasGradShader(v: BiasGradVariant, M: number, N: number): string {
  const problem = biasGradUnsupported(v, M, N);
  if (problem) throw new Error(`biasGrad cannot run M=${M} N=${N}: ${problem}`);
  const elem = v.vec4 ? 'vec4f' : 'f32';
  const W = v.workgroupSize;
  const lanes = W / COLUMNS_PER_GROUP;
  const levels: number[] = [];
  for (let half = lanes / 2; half >= 1; half /= 2) levels.push(half);
  return wgsl`
const M = ${M}u;
const COLUMNS = ${columnsOf(v, N)}u;

@group(0) @binding(0) var<storage, read> dY: array<${elem}>;
@group(0) @binding(1) var<storage, read_write> dBias: array<${elem}>;

#if ${!v.reduceRows}
@compute @workgroup_size(${W})
fn biasGrad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = ${flatIndex(W)};
  if (n >= COLUMNS) { return; }
  var sum = ${elem}(0.0);
  for (var m = 0u; m < M; m++) {
    sum += dY[m * COLUMNS + n];
  }
  dBias[n] = sum;
}
#else
const GROUP = ${COLUMNS_PER_GROUP}u;
const LANES = ${lanes}u;
var<workgroup> partial: array<${elem}, ${W}>;

@compute @workgroup_size(${W})
fn biasGrad(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  // No early return before the last barrier: every invocation of the workgroup must reach each one.
  let column = (wid.x + wid.y * groups.x) * GROUP + lid % GROUP;
  let lane = lid / GROUP;
  let n = min(column, COLUMNS - 1u);
  var sum = ${elem}(0.0);
  for (var m = lane; m < M; m += LANES) {
    sum += dY[m * COLUMNS + n];
  }
  partial[lid] = sum;
  workgroupBarrier();
  ${levels.map((half) => `if (lane < ${half}u) { partial[lid] += partial[lid + ${half * COLUMNS_PER_GROUP}u]; }\n  workgroupBarrier();`).join('\n  ')}
  if (lane == 0u && column < COLUMNS) { dBias[column] = partial[lid]; }
}
#endif
`;
}
