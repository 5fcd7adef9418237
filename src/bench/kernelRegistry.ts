// Every kernel family, by its WGSL entry point: what it computes, the sizes it takes as written on the command
// line, and its Kernel at those sizes. `npm run shaders` lists and prints from here, and a test compiles every
// entry, so a kernel added here is printed and checked; activations come from the layer registry, so a new one
// needs nothing here.
import { BadInputError } from '../errors.js';
import { parseMatmulVariant, type MatmulEpilogue, type MatmulForm, type MatmulVariant } from '../../shaders/matmul.js';
import type { ElementwiseOp } from '../../shaders/elementwise.js';
import { SIGMOID_PROBABILITIES } from '../../shaders/targetLosses.js';
import type { ConvGeometry } from '../../shaders/conv2d.js';
import type { PoolGeometry } from '../../shaders/pooling.js';
import { distortionKernels } from '../augment/gpu.js';
import { elementwiseOp, type ActivationDefinition } from '../layers/activation.js';
import { LAYER_MODULES } from '../layers/index.js';
import { kernels as avgpool2d } from '../layers/avgpool2d.js';
import { BATCHNORM_EPS, BATCHNORM_MOMENTUM, kernels as batchnorm } from '../layers/batchnorm.js';
import { kernels as conv2d } from '../layers/conv2d.js';
import { kernels as dropout } from '../layers/dropout.js';
import { kernels as flatten } from '../layers/flatten.js';
import { kernels as maxpool2d } from '../layers/maxpool2d.js';
import type { Kernel } from '../gpu/dispatch.js';
import { kernels } from '../gpu/kernels.js';
import { chooseFirst, chooseMatmul, type VariantChoices } from '../gpu/variants.js';

/** What a kernel family takes beyond its sizes. */
export interface KernelOptions {
  /** The variant lists a variant is chosen from (DEFAULT_VARIANTS for software adapters, GPU_VARIANTS). */
  choices: VariantChoices;
  /** Limits the chosen variant must fit. */
  limits: GPUSupportedLimits;
  /** A matmul variant by name ('nn-vec4-4x4-wg64'); the choice for the shape otherwise. */
  variant?: string;
  /** A matmul's epilogue. */
  epilogue?: MatmulEpilogue;
  /** The activation of a matmul's epilogue, or the one a family that takes an activation fuses (--activation). */
  activation?: ElementwiseOp;
  /** Switches the family lists in its `switches`, as given. */
  switches: ReadonlySet<string>;
}

/** One kernel family: its entry point, what it computes, its sizes and switches, and its Kernel at given sizes. */
export interface KernelFamily {
  /** The WGSL entry point ('conv2dColumns'). */
  name: string;
  /** One line: what it computes. */
  description: string;
  /** Its sizes' names, in the order written ('M', 'N', 'K' for M,N,K). */
  sizes: readonly string[];
  /** Small odd sizes it takes (the test compiles each family at these). */
  example: readonly number[];
  /** Switches it takes ('u8': u8 pixels), with what each does. */
  switches?: Readonly<Record<string, string>>;
  /** Takes --activation NAME (an activation fused into it, as the fusion pass does), with what it does. */
  activation?: string;
  /** Takes a variant name before its sizes (matmul). */
  variants?: boolean;
  /** The epilogues it takes besides none (matmul: --epilogue). */
  epilogues?: readonly MatmulEpilogue[];
  kernel(sizes: readonly number[], o: KernelOptions): Kernel;
}

// Augmentation as a model might ask for it; elastic distortion with the --elastic switch.
const AUGMENTATION = { rotate: 12, scale: 0.1, shear: 0.1, shift: 2 };
const ELASTIC = { alpha: 8, sigma: 3 };
const PIXELS = { pixelScale: 1 / 0.3081, pixelShift: -0.1307 / 0.3081 };
const ACTIVATION_BACKWARD = "then the backward of the activation NAME before the layer (relu, gelu, leakyrelu:0.2, …)";

/** How each epilogue is written after --epilogue. */
export const EPILOGUE_WRITTEN: Record<MatmulEpilogue, string> = { none: 'none', bias: 'bias', biasActivation: 'bias+NAME', activationBackward: 'backward+NAME' };

const image = ([batch, channels, height, width]: readonly number[]) => ({ batch, channels, height, width });
const pool = (s: readonly number[]): PoolGeometry => {
  const [, , height, width, kernel, stride] = s;
  if (kernel > height || kernel > width) throw new BadInputError(`a ${kernel}×${kernel} window does not fit a ${height}×${width} image`);
  return { ...image(s), kernelHeight: kernel, kernelWidth: kernel, stride };
};
const conv = (s: readonly number[]): ConvGeometry => {
  const [, , height, width, kernel, stride, padding] = s;
  if (padding >= kernel || kernel > height + 2 * padding || kernel > width + 2 * padding) {
    throw new BadInputError(`a ${kernel}×${kernel} kernel with padding ${padding} does not fit a ${height}×${width} image (padding at most K − 1)`);
  }
  return { ...image(s), outChannels: 1, kernelHeight: kernel, kernelWidth: kernel, stride, padding };
};

function matmul(form: MatmulForm): KernelFamily {
  const shapes = { nn: 'C[M×N] = A[M×K] · B[K×N]', nt: 'C[M×N] = A[M×K] · B[N×K]ᵀ', tn: 'C[M×N] = A[K×M]ᵀ · B[K×N]' };
  return {
    name: `matmul${form.toUpperCase()}`, description: shapes[form], sizes: ['M', 'N', 'K'],
    // u8 pixels come four to a word: A's rows (nn) or columns (tn) a multiple of 4.
    example: [36, 29, 12],
    // u8 pixels are a first layer's input: A of nn (the forward), of tn (the weight gradient).
    ...(form !== 'nt' && { switches: { u8: 'A is u8 pixels packed four to a u32' } }), variants: true,
    // The engine's: bias and an activation after a forward product, the backward of the activation before the
    // next layer on an input gradient.
    epilogues: form === 'tn' ? ['activationBackward'] : ['bias', 'biasActivation', 'activationBackward'],
    kernel([M, N, K], o) {
      const shape = { M, N, K, epilogue: o.epilogue, activation: o.activation, inputU8: o.switches.has('u8'), ...(o.switches.has('u8') && PIXELS) };
      let variant: MatmulVariant | null = o.variant ? parseMatmulVariant(o.variant) : chooseMatmul(o.choices, form, shape, o.limits);
      if (!variant) throw new BadInputError(`'${o.variant}' is not a matmul variant name (such as nn-vec4-4x4-wg64) or a form (nn, nt, tn)`);
      if (variant.form !== form) throw new BadInputError(`matmul${form.toUpperCase()} takes a ${form} variant, not '${o.variant}'`);
      return kernels.matmul(form, variant, shape);
    },
  };
}

/** The activations' elementwise kernels, at their default arguments, from the layer registry. */
function activationFamilies(): KernelFamily[] {
  return Object.values(LAYER_MODULES).flatMap((module) => {
    if (!('def' in module)) return [];
    const def = module.def as ActivationDefinition<string, Record<string, number>>;
    const op = elementwiseOp(def, module.parse([]) as never);
    return [
      { name: `${op.name}Forward`, description: `output = ${op.name}(input), elementwise`, sizes: ['count'], example: [37], kernel: ([count]) => kernels.elementwiseForward(op, count) },
      { name: `${op.name}Backward`, description: `dInput = ${op.name}'s backward of (dOutput, input, output)`, sizes: ['count'], example: [37], kernel: ([count]) => kernels.elementwiseBackward(op, count) },
    ] satisfies KernelFamily[];
  });
}

function augmentFamily(name: string, description: string, source: 'batch' | 'dataset', elastic: boolean | 'switch'): KernelFamily {
  return {
    name, description, sizes: ['capacity', 'channels', 'height', 'width'], example: [5, 1, 9, 12],
    ...(elastic === 'switch' && {
      switches: { f32: 'writes f32 normalized pixels (u8 otherwise)', elastic: `with elastic distortion (α ${ELASTIC.alpha}, σ ${ELASTIC.sigma})` },
    }),
    kernel([capacity, channels, height, width], o) {
      const withField = elastic === 'switch' ? o.switches.has('elastic') : elastic;
      const a = { ...AUGMENTATION, ...(withField && { elastic: ELASTIC }) };
      // The elastic passes' WGSL does not depend on the output; f32 takes any image size.
      const output = o.switches.has('f32') || elastic !== 'switch' ? 'f32' : 'u8';
      const found = distortionKernels(capacity, [channels, height, width], a, PIXELS, output, source).find((k) => k.entryPoint === name);
      if (!found) throw new BadInputError(`${name} does not take ${channels}×${height}×${width} images: their lines are too long to unroll (augmentImages runs instead)`);
      return found;
    },
  };
}

/** Every kernel family, matmuls first. */
export function kernelFamilies(): KernelFamily[] {
  return [
    matmul('nn'), matmul('nt'), matmul('tn'),
    {
      name: 'biasGrad', description: 'dBias[N] = Σ_m dY[M×N]', sizes: ['M', 'N'], example: [37, 29],
      kernel: ([M, N], o) => kernels.biasGrad(chooseFirst(o.choices.biasGrad, (v) => !v.vec4 || N % 4 === 0, 'biasGrad'), M, N),
    },
    {
      name: 'softmaxCrossEntropy', description: 'loss, accuracy counts and dLogits of rows×classes logits', sizes: ['rows', 'classes'], example: [37, 11],
      switches: { evaluation: 'without dLogits' },
      kernel: ([rows, classes], o) => kernels.softmaxCrossEntropy({ ...o.choices.softmax, gradient: !o.switches.has('evaluation') }, rows, classes),
    },
    ...(['meanSquaredError', 'sigmoidCrossEntropy'] as const).map((loss): KernelFamily => ({
      name: loss, description: `the ${loss === 'meanSquaredError' ? 'mse' : 'bce'} loss and dLogits of rows×outputs logits against float targets`,
      sizes: ['rows', 'outputs'], example: [37, 3], switches: { evaluation: 'without dLogits' },
      kernel: ([rows, outputs], o) => kernels.targetLoss(loss, { workgroupSize: o.choices.softmax.workgroupSize, gradient: !o.switches.has('evaluation') }, rows, outputs),
    })),
    {
      name: 'softmax', description: 'probabilities[rows×classes] = softmax(logits)', sizes: ['rows', 'classes'], example: [37, 11],
      kernel: ([rows, classes], o) => kernels.softmax(o.choices.softmax.workgroupSize, rows, classes),
    },
    {
      name: 'sigmoidProbabilitiesForward', description: "probabilities[count] = σ(logits): a 'bce' model's prediction", sizes: ['count'], example: [37],
      kernel: ([count]) => kernels.elementwiseForward(SIGMOID_PROBABILITIES, count),
    },
    {
      name: 'gatherBatch', description: 'a batch of u8 images and their labels, gathered by the shuffled order', sizes: ['capacity', 'features'], example: [9, 29],
      switches: { f32: 'f32 features (u8 pixels otherwise)' },
      kernel: ([capacity, features], o) => kernels.gatherBatch(capacity, features, o.switches.has('f32') ? 'f32' : 'u8'),
    },
    { name: 'gatherLabels', description: "a batch's labels, gathered by the shuffled order", sizes: ['capacity'], example: [9], kernel: ([capacity]) => kernels.gatherLabels(capacity) },
    {
      name: 'gatherTargets', description: "a batch's float target rows, gathered by the shuffled order", sizes: ['capacity', 'width'], example: [9, 3],
      kernel: ([capacity, width]) => kernels.gatherTargets(capacity, width),
    },
    {
      name: 'adamUpdate', description: 'one Adam/AdamW step over length parameters', sizes: ['length'], example: [37],
      kernel: ([length], o) => kernels.adamUpdate(chooseFirst(o.choices.optimizer, (v) => !v.vec4 || length % 4 === 0, 'adamUpdate'), length),
    },
    {
      name: 'sgdUpdate', description: 'one SGD step (momentum) over length parameters', sizes: ['length'], example: [37],
      kernel: ([length], o) => kernels.sgdUpdate(chooseFirst(o.choices.optimizer, (v) => !v.vec4 || length % 4 === 0, 'sgdUpdate'), length),
    },
    {
      name: 'maxNorm', description: 'each column of weight[inputs×outputs] scaled to L2 norm ≤ 3', sizes: ['inputs', 'outputs'], example: [29, 7],
      kernel: ([inputs, outputs]) => kernels.maxNorm(inputs, outputs, 3),
    },
    ...activationFamilies(),
    {
      name: 'conv2dColumns', description: 'im2col: a channels-last batch into [B·OH·OW × C·K·K] columns', sizes: ['batch', 'channels', 'height', 'width', 'kernel', 'stride', 'padding'],
      example: [3, 2, 9, 7, 3, 2, 1], switches: { u8: 'reads u8 pixels packed four to a u32' },
      kernel: (s, o) => conv2d.conv2dColumns(conv(s), o.switches.has('u8') ? PIXELS : undefined),
    },
    {
      name: 'conv2dInputGrad', description: 'col2im: dInput from dColumns', sizes: ['batch', 'channels', 'height', 'width', 'kernel', 'stride', 'padding'],
      example: [3, 2, 9, 7, 3, 2, 1], activation: ACTIVATION_BACKWARD, kernel: (s, o) => conv2d.conv2dInputGrad(conv(s), o.activation),
    },
    {
      name: 'maxPool2d', description: "each K×K window's largest element", sizes: ['batch', 'channels', 'height', 'width', 'kernel', 'stride'], example: [3, 2, 9, 7, 3, 2],
      kernel: (s) => maxpool2d.maxPool2d(pool(s)),
    },
    {
      name: 'maxPool2dBackward', description: "dOutput routed to each window's largest element", sizes: ['batch', 'channels', 'height', 'width', 'kernel', 'stride'],
      example: [3, 2, 9, 7, 3, 2], activation: ACTIVATION_BACKWARD, kernel: (s, o) => maxpool2d.maxPool2dBackward(pool(s), o.activation),
    },
    {
      name: 'avgPool2d', description: "each K×K window's mean", sizes: ['batch', 'channels', 'height', 'width', 'kernel', 'stride'], example: [3, 2, 9, 7, 3, 2],
      kernel: (s) => avgpool2d.avgPool2d(pool(s)),
    },
    {
      name: 'avgPool2dBackward', description: 'dOutput shared equally over each window', sizes: ['batch', 'channels', 'height', 'width', 'kernel', 'stride'],
      example: [3, 2, 9, 7, 3, 2], activation: ACTIVATION_BACKWARD, kernel: (s, o) => avgpool2d.avgPool2dBackward(pool(s), o.activation),
    },
    {
      name: 'flatten', description: 'a channels-last image to C·H·W features in (c, h, w) order', sizes: ['batch', 'channels', 'height', 'width'], example: [3, 2, 5, 7],
      kernel: (s) => flatten.flatten(image(s)),
    },
    {
      name: 'flattenBackward', description: "flatten's inverse on the gradient", sizes: ['batch', 'channels', 'height', 'width'], example: [3, 2, 5, 7], activation: ACTIVATION_BACKWARD,
      kernel: (s, o) => flatten.flattenBackward(image(s), o.activation),
    },
    ...(['batchnormStats', 'batchnormForward', 'batchnormBackward'] as const).map((name): KernelFamily => ({
      name,
      description: {
        batchnormStats: "each channel's batch mean and variance; the running estimates updated",
        batchnormForward: 'normalized by the batch statistics (or the running estimates), scaled and shifted',
        batchnormBackward: 'dInput, dWeight and dBias of batch normalization',
      }[name],
      sizes: ['rows', 'positions', 'channels'], example: [9, 5, 3],
      ...(name === 'batchnormForward' && { switches: { running: 'from the running estimates (evaluation)' }, activation: 'then the activation NAME after it, fused' }),
      kernel([capacityRows, positions, channels], o) {
        const s = { capacityRows, positions, channels, momentum: BATCHNORM_MOMENTUM, eps: BATCHNORM_EPS };
        return name === 'batchnormForward' ? batchnorm.batchnormForward(s, !o.switches.has('running'), o.activation) : batchnorm[name](s);
      },
    })),
    {
      name: 'dropout', description: 'each element kept with probability 1 − p = 0.75 and scaled by 1/(1 − p)', sizes: ['rows', 'width'], example: [9, 29],
      kernel: ([capacityRows, width]) => dropout.dropout({ capacityRows, width, p: 0.25, layer: 1 }),
    },
    {
      name: 'dropoutBackward', description: "dropout's mask and scale on the gradient", sizes: ['rows', 'width'], example: [9, 29], activation: ACTIVATION_BACKWARD,
      kernel: ([capacityRows, width], o) => dropout.dropoutBackward({ capacityRows, width, p: 0.25, layer: 1 }, o.activation),
    },
    augmentFamily('augmentImages', 'a batch of images rotated, scaled, sheared and shifted (an invocation per output pixel group)', 'batch', 'switch'),
    augmentFamily('augmentLines', 'the same from the data set kept as quads, an invocation per output line', 'dataset', 'switch'),
    augmentFamily('elasticRows', "elastic distortion's noise blurred along rows", 'batch', true),
    augmentFamily('elasticColumns', "elastic distortion's field blurred along columns into the displacement", 'batch', true),
    augmentFamily('elasticNoiseColumns', "elastic distortion's noise blurred along columns in one pass (before augmentLines)", 'dataset', true),
  ];
}

/** The family named `name`, or a BadInputError that names them all. */
export function kernelFamily(name: string | undefined): KernelFamily {
  const families = kernelFamilies();
  const found = families.find((f) => f.name === name);
  if (!found) throw new BadInputError(`the kernel must be one of matmul, ${families.map((f) => f.name).join(', ')}, got '${name ?? ''}'`);
  return found;
}

/** `name SIZES [--switch]…`: how a family is written on the command line. */
export function kernelUsage(f: KernelFamily): string {
  const epilogue = f.epilogues ? [`[--epilogue ${f.epilogues.map((e) => EPILOGUE_WRITTEN[e]).join('|')}]`] : [];
  const activation = f.activation ? ['[--activation NAME]'] : [];
  return [f.name, ...(f.variants ? ['[variant]'] : []), f.sizes.join(','), ...Object.keys(f.switches ?? {}).map((s) => `[--${s}]`), ...activation, ...epilogue].join(' ');
}
