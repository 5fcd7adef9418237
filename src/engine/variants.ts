// Which kernel variant the engine uses for a shape when nobody asks for another: the fastest family that the
// shape supports (vec4 register tiles where sizes are multiples of 4, scalar register tiles elsewhere).
import { matmulUnsupported, type MatmulForm, type MatmulShape, type MatmulVariant } from '../../shaders/matmul.js';
import type { BiasGradVariant } from '../../shaders/biasGrad.js';
import type { OptimizerVariant } from '../../shaders/optimizer.js';
import type { SoftmaxVariant } from '../../shaders/softmaxCrossEntropy.js';

export interface VariantChoices {
  /** Per-form candidate list, best first; the first one that supports the shape is taken. */
  matmul: Record<MatmulForm, MatmulVariant[]>;
  biasGrad: BiasGradVariant[];
  optimizer: OptimizerVariant[];
  softmax: Omit<SoftmaxVariant, 'gradient'>;
  /** Tuned choices for exact shapes (see autotune.ts), keyed by matmulShapeKey; they win over the lists. */
  matmulByShape?: Record<string, MatmulVariant>;
}

export const matmulShapeKey = (form: MatmulForm, s: MatmulShape): string => `${form} ${s.M}×${s.N}×${s.K}${s.inputU8 ? ' u8' : ''}`;

const candidates = (form: MatmulForm, vec4Tiles: [number, number], scalarTiles: [number, number], kUnroll?: number): MatmulVariant[] => [
  { form, vec4: true, tileRows: vec4Tiles[0], tileCols: vec4Tiles[1], workgroupSize: 64, ...(kUnroll ? { kUnroll } : {}) },
  { form, vec4: false, tileRows: scalarTiles[0], tileCols: scalarTiles[1], workgroupSize: 64 },
];

export const DEFAULT_VARIANTS: VariantChoices = {
  matmul: {
    // Measured on SwiftShader (npm run bench -- --only matmul): 16×8 register tiles lead for nn, and for tn
    // with k unrolled by 4; on the MLP shapes they are 13–14× the one-invocation-per-output baseline.
    nn: candidates('nn', [16, 8], [8, 4]),
    nt: candidates('nt', [4, 4], [8, 4]),
    tn: candidates('tn', [16, 8], [8, 4], 4),
  },
  biasGrad: [{ workgroupSize: 64, vec4: true }, { workgroupSize: 64, vec4: false }],
  optimizer: [{ workgroupSize: 64, vec4: true }, { workgroupSize: 64, vec4: false }],
  softmax: { workgroupSize: 64 },
};

/**
 * Untuned defaults for real GPUs (not measured here: no GPU was at hand): small 4×4 tiles keep thousands of
 * invocations in flight at the MLP's sizes, where the 16×8 tiles that suit a CPU leave a GPU mostly idle.
 */
export const GPU_VARIANTS: VariantChoices = {
  ...DEFAULT_VARIANTS,
  matmul: {
    nn: candidates('nn', [4, 4], [4, 4]),
    nt: candidates('nt', [4, 4], [4, 4]),
    tn: candidates('tn', [4, 4], [4, 4]),
  },
};

export function chooseMatmul(choices: VariantChoices, form: MatmulForm, shape: MatmulShape): MatmulVariant {
  const tuned = choices.matmulByShape?.[matmulShapeKey(form, shape)];
  if (tuned && tuned.form === form && matmulUnsupported(tuned, shape) === null) return tuned;
  const variant = choices.matmul[form].find((v) => matmulUnsupported(v, shape) === null);
  if (!variant) throw new Error(`no matmul ${form} variant supports M=${shape.M} N=${shape.N} K=${shape.K}`);
  return variant;
}

export function chooseFirst<V>(list: V[], supports: (v: V) => boolean, what: string): V {
  const variant = list.find(supports);
  if (!variant) throw new Error(`no ${what} variant supports this shape`);
  return variant;
}
