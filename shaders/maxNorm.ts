// Max-norm constraint, applied after each optimizer update: every unit's incoming weights (a column of the
// engine's weight[INPUTS × OUTPUTS], a row of PyTorch's [out × in]) are scaled back onto the ball of radius
// MAX_NORM when their L2 norm exceeds it (Srivastava et al. 2014; torch.renorm(w, 2, 0, c) up to its 1e-7).
//   maxNorm: one invocation per unit: sum of squares down the column, then one scaling pass.
// Variant: workgroupSize. Shapes: any.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { output, type Binding } from './bindings.js';
import { f32Literal, flatIndex } from './common.js';

export const MAX_NORM_BINDINGS: Binding[] = [output('weight')];

export function maxNormShader(workgroupSize: number, inputs: number, outputs: number, maxNorm: number): string {
  if (!(maxNorm > 0)) throw new Error(`maxNorm must be positive, got ${maxNorm}`);
  return wgsl`
const INPUTS = ${inputs}u;
const OUTPUTS = ${outputs}u;
const MAX_NORM = ${f32Literal(maxNorm)};

@group(0) @binding(0) var<storage, read_write> weight: array<f32>;

@compute @workgroup_size(${workgroupSize})
fn maxNorm(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let unit = ${flatIndex(workgroupSize)};
  if (unit >= OUTPUTS) { return; }
  var sumSquares = 0.0;
  for (var i = 0u; i < INPUTS; i++) {
    let w = weight[i * OUTPUTS + unit];
    sumSquares += w * w;
  }
  let norm = sqrt(sumSquares);
  if (norm <= MAX_NORM) { return; }
  let scale = MAX_NORM / norm;
  for (var i = 0u; i < INPUTS; i++) { weight[i * OUTPUTS + unit] *= scale; }
}
`;
}
