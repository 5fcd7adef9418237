// The matmul module's shared vocabulary: forms, shapes, variants, entry points, and how A is read. The family
// modules (matmul.ts, matmulTiled.ts, matmulReduceK.ts) build on it.
import type { ElementwiseOp } from './elementwise.js';

/** Which operand is transposed: nn C = A·B (forward), nt C = A·Bᵀ (input gradient), tn C = Aᵀ·B (weight gradient). */
export type MatmulForm = 'nn' | 'nt' | 'tn';
/**
 * What is fused after the product: nothing, + bias, + bias then an activation's forward (MatmulShape.activation),
 * or that activation's backward (C is the gradient of its output; the kernel makes the gradient of its input).
 */
export type MatmulEpilogue = 'none' | 'bias' | 'biasActivation' | 'activationBackward';

/** Workgroup tiles of the tiled family: the block each workgroup computes and the slice of k staged at a time. */
export interface MatmulTiling {
  /** Rows and columns of C per workgroup; multiples of tileRows and tileCols. */
  blockRows: number;
  /** See blockRows. */
  blockCols: number;
  /** Steps along k staged per slice; a multiple of 4. */
  depth: number;
}

/** A matmul kernel variant (its name: matmulVariantName); each states the shapes it supports. */
export interface MatmulVariant {
  /** The product's form. */
  form: MatmulForm;
  /** Rows of C per invocation (its register tile). */
  tileRows: number;
  /** Columns of C per invocation. */
  tileCols: number;
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Load and store vec4s rather than scalars. */
  vec4: boolean;
  /** register tn vec4 only: steps along k per loop iteration (1 or more; a tail loop takes the rest). Default 1. */
  kUnroll?: number;
  /** The tiled family: workgroup blocks staged in workgroup memory. */
  tiled?: MatmulTiling;
  /** tiled nn and nt: how a slice is transposed into workgroup memory (see matmulTiled.ts). Default 'units'. */
  transpose?: 'units' | 'scalars';
  /** The reduceK family: one workgroup per C tile, K split across its invocations. */
  reduceK?: boolean;
  /**
   * tiled only: stage the slices of A and B in half precision, so the product is f16 × f16 → f32 (the inputs
   * rounded to f16, every product and sum in f32). 'f16': vec4<f16> in workgroup memory (`enable f16`, needs the
   * shader-f16 feature); 'packed': the same halves packed two to a u32 with pack2x16float, which any adapter
   * runs (the tests check the f16 kernels' indexing and rounding with it on adapters without shader-f16).
   */
  half?: 'f16' | 'packed';
}

/** A product's shape, C [M × N] over K, and what its kernel reads and fuses. */
export interface MatmulShape {
  /** Rows of C. */
  M: number;
  /** Columns of C. */
  N: number;
  /** The summed dimension. */
  K: number;
  /** A is u8 pixels packed four to a u32 (the model's first layer). */
  inputU8?: boolean;
  /** What runs after the product. Default 'none'. */
  epilogue?: MatmulEpilogue;
  /** The activation of the 'biasActivation' and 'activationBackward' epilogues. */
  activation?: ElementwiseOp;
  /** Applied to u8 pixels after /255 (standardization): x' = x·pixelScale + pixelShift. */
  pixelScale?: number;
  /** See pixelScale. */
  pixelShift?: number;
}

export const MATMUL_ENTRY: Record<MatmulForm, string> = { nn: 'matmulNN', nt: 'matmulNT', tn: 'matmulTN' };

/** Loads of A as written in WGSL: plain, or unpacked from u8 pixels (pixels4 / pixel, see matmul.ts). */
export function loadA(v: MatmulVariant, s: MatmulShape, index: string): string {
  if (!s.inputU8) return `A[${index}]`;
  return v.vec4 ? `pixels4(A[${index}])` : `pixel(${index})`;
}

/**
 * nn and nt: C's rows are the batch, so M comes from the bound C (its length over N) rather than the code, and
 * one pipeline serves every batch size (fit's, evaluate's, predict's). tn's M is a layer width: compiled in.
 */
export const rowsFromC = (v: MatmulVariant): boolean => v.form !== 'tn';

/**
 * How many C blocks of `rows` rows a dispatch covers, as `name`: a module constant when M is compiled in, else
 * a let computed from M at the top of the entry point. `perRow` is the WGSL constant counting blocks along n.
 */
export function blockCount(v: MatmulVariant, s: MatmulShape, name: string, rows: number, perRow: string): { module: string; entry: string } {
  if (!rowsFromC(v)) return { module: `const ${name} = ${Math.ceil(s.M / rows)}u * ${perRow};`, entry: '' };
  return { module: '', entry: `let M = rowsOfC();\n  let ${name} = ((M + ${rows - 1}u) / ${rows}u) * ${perRow};` };
}

