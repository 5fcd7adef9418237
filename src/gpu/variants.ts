// Which kernel variant the engine uses for a shape when nobody asks for another. Software adapters (CPU-like)
// want big barrier-free register tiles; GPUs want parallelism: workgroup tiles for big products, K split across
// a workgroup for skinny ones. An autotuned or measured choice for the exact shape wins over both lists.
import { RunFailure } from '../errors.js';
import { matmulExceedsDevice, matmulUnsupported, type MatmulForm, type MatmulShape, type MatmulVariant } from '../../shaders/matmul.js';
import type { BiasGradVariant } from '../../shaders/biasGrad.js';
import type { OptimizerVariant } from '../../shaders/optimizer.js';
import type { SoftmaxVariant } from '../../shaders/softmaxCrossEntropy.js';
import { isLavapipe, type AdapterDescription } from './device.js';
import { GPU_MEASURED, type AdapterClass, type MeasuredVariants } from './measuredVariants.js';

/** Shapes a candidate is meant for; outputs = M·N. Absent bounds do not restrict. */
export interface ShapeRange {
  /** Fewest outputs M·N. */
  minOutputs?: number;
  /** Most outputs M·N. */
  maxOutputs?: number;
  /** Shortest K. */
  minK?: number;
}

/** A matmul variant in a candidate list, with the shapes it is meant for. */
export interface MatmulCandidate extends MatmulVariant {
  /** Take it only for products in this range (any shape it supports when absent). */
  when?: ShapeRange;
}

/** Which kernel variant each operation uses, as lists of candidates and exact-shape choices (see ModelOptions.variants). */
export interface VariantChoices {
  /** Per-form candidate list, best first; the first one that supports the shape (and its range) is taken. */
  matmul: Record<MatmulForm, MatmulCandidate[]>;
  /** Bias-gradient kernel candidates, best first; the first that supports the shape is taken. */
  biasGrad: BiasGradVariant[];
  /** Optimizer-update kernel candidates, best first; the first that supports the parameter count is taken. */
  optimizer: OptimizerVariant[];
  /** The softmax cross-entropy kernel's variant (with and without the gradient). */
  softmax: Omit<SoftmaxVariant, 'gradient'>;
  /** Tuned or measured choices for exact shapes, keyed by matmulShapeKey; they win over the lists. */
  matmulByShape?: Record<string, MatmulVariant>;
  /** Training steps per queue submission when fit is not told (see FitOptions.stepsPerSubmit). */
  stepsPerSubmit?: number;
  /** Keep the training set in GPU memory when fit is not told (see FitOptions.gpuResidentData). */
  gpuResidentData?: boolean;
  /**
   * Start a chosen matmul on its quick twin (quickMatmulTwin) while its full kernel compiles in the background.
   * Default true: on SwiftShader the twin is what keeps the first step short.
   */
  quickTwins?: boolean;
  /** Invocations per image in augmentImages (shaders/augment.ts). Default 16. */
  augment?: {
    /** Invocations per image. */
    workgroupSize: number;
  };
}

export const matmulShapeKey = (form: MatmulForm, s: MatmulShape): string => `${form} ${s.M}×${s.N}×${s.K}${s.inputU8 ? ' u8' : ''}`;

export const inRange = (r: ShapeRange | undefined, s: MatmulShape): boolean =>
  !r || ((r.minOutputs ?? 0) <= s.M * s.N && s.M * s.N <= (r.maxOutputs ?? Infinity) && s.K >= (r.minK ?? 0));

const register = (form: MatmulForm, vec4: boolean, tileRows: number, tileCols: number, extra: Partial<MatmulCandidate> = {}): MatmulCandidate =>
  ({ form, vec4, tileRows, tileCols, workgroupSize: 64, ...extra });

/** The software adapters' defaults (big register tiles, host uploads), and the engine's when it knows no adapter. */
export const DEFAULT_VARIANTS: VariantChoices = {
  matmul: {
    // Measured on SwiftShader (npm run bench -- --only matmul): 16×8 register tiles lead for nn, and for tn
    // with k unrolled by 4; on the MLP shapes they are 13–14× the one-invocation-per-output baseline.
    nn: [register('nn', true, 16, 8), register('nn', false, 8, 4)],
    nt: [register('nt', true, 4, 4), register('nt', false, 8, 4)],
    // Few outputs over a long K (a convolution's weight gradient: 144×32 over K = 25,088): 8×8 tiles give twice
    // the invocations of 16×8, enough for two workgroups, so both cores work: 87 against 149 ms there.
    tn: [register('tn', true, 8, 8, { kUnroll: 4, when: { maxOutputs: 16_384 } }), register('tn', true, 16, 8, { kUnroll: 4 }), register('tn', false, 8, 4)],
  },
  biasGrad: [{ workgroupSize: 64, vec4: true }, { workgroupSize: 64, vec4: false }],
  optimizer: [{ workgroupSize: 64, vec4: true }, { workgroupSize: 64, vec4: false }],
  softmax: { workgroupSize: 64 },
  // 128 MNIST images, affine and elastic: 8.9 ms at 16 invocations each, 11.1 at 8, 11.2 at 32, 10.6 at 64.
  augment: { workgroupSize: 16 },
};

/**
 * Mesa's lavapipe: LLVM vectorizes each invocation's register tile and runs workgroups on every core, so its best
 * tiles are not SwiftShader's. Its choices stay within SwiftShader's family: register tiles only, and for each
 * form the same accumulation order (nn and tn sum each output by fma over k in order, from zero, at any tile
 * size, vec4 or scalar; nt keeps SwiftShader's vec4-ness, whose four lanes are summed at the end), so on lavapipe
 * they give the bits SwiftShader's choices give there (and the kernels' exp, log and tanh are the portable ones
 * of shaders/portableMath.ts, so a training run on f32 features gives the same bits on both drivers). One exception, 2.7×
 * faster: the README CNN's 'nt 8192×200×16' takes scalar tiles, the bits of SwiftShader's scalar nt candidate
 * rather than of its vec4 choice (test/defaults.test.ts names it), so that CNN's runs on the two drivers agree in
 * their printed figures but not in every bit. Measured with GPU timestamps on lavapipe (Mesa 25.0.7, 2 cores), each variant verified
 * against float64 first:
 *   npm run bench -- --adapter lavapipe --only matmul --batch-size 128
 *   npm run bench -- --adapter lavapipe --only matmul --batch-size 128 --budget 20 --layers conv2d:8:k=5,relu,
 *     maxpool2d:2,conv2d:16:k=5,relu,maxpool2d:2,flatten,linear:128,relu,dropout:0.25,linear:10
 * (raw outputs: results/lavapipe/2026-12-07-variants/). The weight gradient of a wide layer wants vec4 tiles
 * without k unrolled (784×500 over K = 128: 9.3 ms for 8×8 against 16.8 for 16×8 unrolled by 4); smaller ones,
 * scalar 8×4 tiles (256×128 over K = 128: 1.1 against 3.7). The wide tn's workgroups and the README CNN's
 * convolution products below were then compared side by side, variant against variant in alternating rounds,
 * and in the whole step's profile, old defaults against new (results/lavapipe/2026-12-07-speed/, whose README
 * gives the commands).
 */
export const LAVAPIPE_VARIANTS: VariantChoices = {
  ...DEFAULT_VARIANTS,
  // Full kernels from the first step. lavapipe compiles a kernel through LLVM at its first dispatch, not when
  // the pipeline is made, so a twin only puts the full kernel's compile off to a later step, and compiles one
  // more kernel; meanwhile the twins run slower. The README's CNN, one epoch of 5,000 images, 4 alternating
  // rounds: 3.06–3.67 s without twins against 3.96–4.74 s with them; with Mesa's shader cache empty, 10.3 s
  // against 11.0 and 14.8 (results/lavapipe/2026-12-07-twins/run.txt).
  quickTwins: false,
  matmul: {
    ...DEFAULT_VARIANTS.matmul,
    // nn: vec4 8×4 tiles rather than 16×8, faster and six times quicker to compile (LLVM's time grows with the
    // tile's live registers): the MLP's 128×500 over K = 784 u8 +bias+relu, 7.1–7.3 ms against 9.3–9.5, its
    // compile with Mesa's cache empty 0.46–0.55 s against 3.1–3.4 s (results/lavapipe/2026-12-07-twins/nn.txt).
    nn: [register('nn', true, 8, 4), register('nn', false, 8, 4)],
    // Wide weight gradients: 16×8 tiles in workgroups of 16 (the MLP's 784×500 over K = 128 u8: 49 workgroups
    // rather than 25 of 8×8 in 128s, so the cores share the work evenly when other processes take CPU time).
    // Alternating rounds on a busy machine, medians: 7.7 against 21.8 ms (5 rounds), 7.9 against 11.3 (9), and
    // in the whole step's profile 9.5 against 11.3 (3) and 12.3 against 13.1 (6).
    tn: [register('tn', true, 16, 8, { workgroupSize: 16, when: { minOutputs: 1 << 16 } }), register('tn', false, 8, 4)],
  },
  matmulByShape: {
    // The README CNN's second convolution (8,192 × 16 over K = 200): 4×4 vec4 tiles, 9.3 ms against 23.5 for 16×8.
    'nn 8192×16×200': register('nn', true, 4, 4),
    // Its first (73,728 × 8 over K = 25): scalar 16×8 in workgroups of 16, 9.3 against 16.1 ms for 8×4 in 64s
    // (medians of 7 alternating rounds on a busy machine; in the whole step's profile 10.1 against 12.7).
    'nn 73728×8×25': register('nn', false, 16, 8, { workgroupSize: 16 }),
    // Its first linear layer (128 × 128 over K = 256): scalar 8×4, 1.2 ms against 3.0 for vec4 16×8.
    'nn 128×128×256': register('nn', false, 8, 4),
    // The second convolution's weight gradient (200 × 16 over K = 8,192): vec4 8×8 tiles in workgroups of 16,
    // four workgroups for the two cores: 4.0 ms against 28.4 for scalar 8×4 (medians of 5 alternating rounds;
    // in the whole step's profile 10.9 against 19.6).
    'tn 200×16×8192': register('tn', true, 8, 8, { workgroupSize: 16 }),
    // Its input gradient (8,192 × 200 over K = 16): SwiftShader's scalar candidate, 8×4, against its first choice,
    // vec4 4×4: 31.0 against 54.9 ms in the whole step's profile (scalar 4×4 42.7 against 115.0; 8×4 22.2 against
    // 4×4's 24.0). The one product where lavapipe sums in another order than SwiftShader's first choice: each
    // output over k in order, not in four vec4 lanes added at the end.
    'nt 8192×200×16': register('nt', false, 8, 4),
  },
};

/** A workgroup-tiled variant: blockRows × blockCols per workgroup, depth along k, tileRows × tileCols per invocation. */
export const tiledVariant = (form: MatmulForm, vec4: boolean, blockRows: number, blockCols: number, depth: number, tileRows: number, tileCols: number): MatmulVariant => ({
  form, vec4, tileRows, tileCols, workgroupSize: (blockRows / tileRows) * (blockCols / tileCols), tiled: { blockRows, blockCols, depth },
});

/** A reduceK variant: one workgroup of `workgroupSize` invocations per tileRows × tileCols tile, splitting K. */
export const reduceKVariant = (form: MatmulForm, tileRows: number, tileCols: number, workgroupSize: number): MatmulVariant => ({
  form, vec4: false, tileRows, tileCols, workgroupSize, reduceK: true,
});

// Measured on an H200 (npm run bench -- --only matmul): reduceK wins the skinny products (128×10 over K = 500:
// 0.005 ms against 0.097 ms for register tiles), 64×64 workgroup tiles of 4×4 the medium ones (128×500 over
// K = 784, 784×500 over K = 128, 1024³), 128×128 tiles of 8×8 the big ones (4096-wide layers at batch 1024).
// Skinny: fewer outputs than a GPU has lanes to spare, over a long K. Big: enough 128×128 blocks to fill a GPU.
export const SKINNY: ShapeRange = { maxOutputs: 16_384, minK: 64 };
export const BIG: ShapeRange = { minOutputs: 1 << 20 };
export const MEDIUM: ShapeRange = { minOutputs: 1 << 16 };
export const SMALL: ShapeRange = { minOutputs: 1 << 12 };

// Every class has a candidate within WebGPU's default 16 KiB of workgroup memory and 256 invocations, so a
// device at default limits still gets workgroup tiles: 128×128×8 needs 16,896 bytes (padded against bank
// conflicts), 64×64×16 17,408; 128×64×8 needs 12,800 and 64×64×8 8,704 (4×8 tiles: 128 invocations, so its
// 64×8 slices split evenly into vec4 loads).
const gpuCandidates = (form: MatmulForm): MatmulCandidate[] => [
  { ...reduceKVariant(form, 1, 1, 64), when: SKINNY },
  { ...tiledVariant(form, true, 128, 128, 8, 8, 8), when: BIG },
  { ...tiledVariant(form, true, 128, 64, 8, 8, 8), when: BIG },
  { ...tiledVariant(form, true, 64, 64, 16, 4, 4), when: MEDIUM },
  { ...tiledVariant(form, true, 64, 64, 8, 4, 8), when: MEDIUM },
  // Scalar loads where K or N is not a multiple of 4 (nt 1024×4096×10: the input gradient of a 10-class output).
  { ...tiledVariant(form, false, 64, 64, 16, 4, 4), when: MEDIUM },
  { ...tiledVariant(form, false, 64, 64, 8, 4, 8), when: MEDIUM },
  // Mid-size products (128×500 over K = 784): 32×32 tiles, the H200's measured choice there.
  { ...tiledVariant(form, true, 32, 32, 8, 4, 4), when: SMALL },
  register(form, true, 4, 4),
  register(form, false, 4, 4),
];

/**
 * Defaults for GPUs by shape class. Batches gathered on the GPU, four steps per submission: on the H200 a
 * 784-500-10 step at batch 128 took 0.204 ms at one per submission and 0.117 ms at four, its kernels 0.077 ms
 * (npm run bench -- --only throughput). Software adapters keep host uploads: there the gather kernel costs more
 * than the upload it saves.
 */
export const GPU_VARIANTS: VariantChoices = {
  ...DEFAULT_VARIANTS,
  matmul: { nn: gpuCandidates('nn'), nt: gpuCandidates('nt'), tn: gpuCandidates('tn') },
  // The rows of dY split across a workgroup: a 1024-row bias gradient is 1,024 sequential loads otherwise.
  biasGrad: [{ workgroupSize: 256, vec4: true, reduceRows: true }, { workgroupSize: 256, vec4: false, reduceRows: true }],
  stepsPerSubmit: 4,
  gpuResidentData: true,
  augment: { workgroupSize: 64 },
};

/** The GPU defaults with the exact shapes measured on NVIDIA Hopper (measuredVariants.ts), for that class only. */
export const HOPPER_VARIANTS: VariantChoices = { ...GPU_VARIANTS, matmulByShape: GPU_MEASURED.choices };

/** The measured tables, each with the class of adapters it holds for. */
const MEASURED: { table: MeasuredVariants; variants: VariantChoices }[] = [{ table: GPU_MEASURED, variants: HOPPER_VARIANTS }];

const measuredFor = (adapter: AdapterDescription) => MEASURED.find((m) => inAdapterClass(adapter, m.table.appliesTo));

/** Whether an adapter is of a class: its vendor, and its architecture or (where that is unknown) its device name. */
export function inAdapterClass(adapter: AdapterDescription, c: AdapterClass): boolean {
  if (adapter.vendor.toLowerCase() !== c.vendor) return false;
  const architecture = adapter.architecture.toLowerCase();
  return c.architectures.includes(architecture) || c.devices.test(`${adapter.device} ${adapter.description}`);
}

/**
 * The untuned defaults for an adapter: software adapters get big register tiles; GPUs the shape rules, plus the
 * measured table of their class when there is one (the bounded autotune, `--autotune`, measures any other).
 */
export function defaultVariantsFor(adapter: AdapterDescription): VariantChoices {
  if (isLavapipe(adapter)) return LAVAPIPE_VARIANTS;
  if (adapter.isFallbackAdapter) return DEFAULT_VARIANTS;
  return measuredFor(adapter)?.variants ?? GPU_VARIANTS;
}

/** Which defaults an adapter gets, in words, for the adapter line: 'software defaults', 'GPU shape rules', …. */
export function describeDefaults(adapter: AdapterDescription): string {
  if (isLavapipe(adapter)) return "lavapipe's defaults";
  if (adapter.isFallbackAdapter) return 'software defaults';
  const measured = measuredFor(adapter);
  return measured ? `GPU shape rules and the table measured on ${measured.table.appliesTo.name}` : 'GPU shape rules (no table measured on this class; --autotune measures one)';
}

/** The tuned variant for this exact shape if any, else the first candidate that runs it on this device. */
export function chooseMatmul(choices: VariantChoices, form: MatmulForm, shape: MatmulShape, limits: GPUSupportedLimits): MatmulVariant {
  const runs = (v: MatmulVariant) => v.form === form && matmulUnsupported(v, shape) === null && matmulExceedsDevice(v, limits) === null;
  const tuned = choices.matmulByShape?.[matmulShapeKey(form, shape)];
  if (tuned && runs(tuned)) return tuned;
  const candidate = choices.matmul[form].find((c) => inRange(c.when, shape) && runs(c));
  if (!candidate) throw new RunFailure(`no matmul ${form} variant supports M=${shape.M} N=${shape.N} K=${shape.K} on this device`);
  const { when: _, ...variant } = candidate;
  return variant;
}

export function chooseFirst<V>(list: V[], supports: (v: V) => boolean, what: string): V {
  const variant = list.find(supports);
  if (!variant) throw new RunFailure(`no ${what} variant supports this shape`);
  return variant;
}

/** Register tiles of at most this many outputs per invocation compile quickly (tens of ms on SwiftShader). */
const QUICK_TILE_OUTPUTS = 16;

/**
 * A variant that compiles in a fraction of the time and computes bit for bit what `v` does, or null. Register
 * tiles of every size accumulate each output alike (fma over k in order, from zero; nt vec4: four lanes summed
 * at the end), so a smaller tile of the same form and loads is the same product. The 784-500-10 step's two
 * first-layer products: 16×8 compiles in 370 ms and 210 ms on SwiftShader, 4×4 in 30 ms each.
 */
export function quickMatmulTwin(v: MatmulVariant, s: MatmulShape): MatmulVariant | null {
  if (v.tiled || v.reduceK || v.half || v.tileRows * v.tileCols <= QUICK_TILE_OUTPUTS) return null;
  const side = v.vec4 ? 4 : 2;
  const twin: MatmulVariant = { ...v, tileRows: side, tileCols: side };
  return matmulUnsupported(twin, s) === null ? twin : null;
}
