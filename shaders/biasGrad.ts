// Bias gradient: the column sum of the output gradient. dBias[N] = Σ_m dY[M×N][m, n].
// Variants: workgroupSize; vec4 (four columns per invocation, needs N % 4 = 0) or scalar (any N).
// One invocation per column (group), looping over rows: no barriers, deterministic order.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { input, output, type Binding } from './bindings.js';
import { flatIndex } from './common.js';

export interface BiasGradVariant {
  workgroupSize: number;
  vec4: boolean;
}

export function biasGradUnsupported(v: BiasGradVariant, M: number, N: number): string | null {
  if (!(M >= 1 && N >= 1)) return `sizes must be positive, got M=${M} N=${N}`;
  if (v.vec4 && N % 4) return `vec4 biasGrad needs N a multiple of 4, got N=${N}`;
  return null;
}

export const BIAS_GRAD_BINDINGS: Binding[] = [input('dY'), output('dBias')];

/** Invocations a dispatch needs: one per column, or per four columns. */
export const biasGradInvocations = (v: BiasGradVariant, N: number) => (v.vec4 ? N / 4 : N);

export function biasGradShader(v: BiasGradVariant, M: number, N: number): string {
  const problem = biasGradUnsupported(v, M, N);
  if (problem) throw new Error(`biasGrad cannot run M=${M} N=${N}: ${problem}`);
  const elem = v.vec4 ? 'vec4f' : 'f32';
  const columns = biasGradInvocations(v, N);
  return wgsl`
const M = ${M}u;
const COLUMNS = ${columns}u;

@group(0) @binding(0) var<storage, read> dY: array<${elem}>;
@group(0) @binding(1) var<storage, read_write> dBias: array<${elem}>;

@compute @workgroup_size(${v.workgroupSize})
fn biasGrad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = ${flatIndex(v.workgroupSize)};
  if (n >= COLUMNS) { return; }
  var sum = ${elem}(0.0);
  for (var m = 0u; m < M; m++) {
    sum += dY[m * COLUMNS + n];
  }
  dBias[n] = sum;
}
`;
}
