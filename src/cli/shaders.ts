// npm run shaders -- <kernel> [variant] <sizes> [--u8] [--epilogue none|bias|bias+ACTIVATION|backward+ACTIVATION] [--gpu]
// Prints the exact WGSL that runs, so a reviewer reads the kernel rather than its generator.
//   matmul <variant name | nn | nt | tn> M,N,K   e.g. matmul nn-tiled-vec4-64x64x16-4x4-wg256 128,500,784 --u8
//          (a bare form prints the default variant for the shape: software adapters, or --gpu for GPUs)
//   gatherBatch capacity,features · softmaxCrossEntropy rows,classes · biasGrad M,N · adamUpdate length · sgdUpdate length
import { gatherBatchShader } from '../../shaders/gatherBatch.js';
import { matmulShader, matmulVariantName, parseMatmulVariant, type MatmulForm, type MatmulShape } from '../../shaders/matmul.js';
import { adamUpdateShader, sgdUpdateShader } from '../../shaders/optimizer.js';
import { softmaxCrossEntropyShader } from '../../shaders/softmaxCrossEntropy.js';
import { biasGradShader } from '../../shaders/biasGrad.js';
import { chooseFirst, chooseMatmul, DEFAULT_VARIANTS, GPU_VARIANTS } from '../gpu/variants.js';
import { intListFlag, runMain, UsageError } from './args.js';
import { moduleOf, parseLayers } from '../layers/index.js';
import { parseArgs } from 'node:util';

const KERNELS = ['matmul', 'gatherBatch', 'softmaxCrossEntropy', 'biasGrad', 'adamUpdate', 'sgdUpdate'] as const;

/** --epilogue: none, bias, bias+ACTIVATION (its forward after the bias) or backward+ACTIVATION ('bias+leakyrelu:0.2'). */
function epilogueFlag(text = 'none'): Pick<MatmulShape, 'epilogue' | 'activation'> {
  if (text === 'none' || text === 'bias') return { epilogue: text };
  const [, kind, layer] = text.match(/^(bias|backward)\+(.+)$/) ?? [];
  const usage = `--epilogue must be none, bias, bias+ACTIVATION or backward+ACTIVATION (bias+relu), got '${text}'`;
  if (!layer) throw new UsageError(usage);
  let specs;
  try {
    specs = parseLayers(layer);
  } catch (e) {
    throw new UsageError(`--epilogue: ${(e as Error).message}`);
  }
  const activation = specs.length === 1 ? moduleOf(specs[0]).elementwise?.(specs[0] as never) : undefined;
  if (!activation) throw new UsageError(`--epilogue: '${layer}' is not an activation (${usage})`);
  return { epilogue: kind === 'bias' ? 'biasActivation' : 'activationBackward', activation };
}
// Limits as generous as any adapter's, so that the defaults' order decides, not this machine.
const ANY_LIMITS = { maxComputeWorkgroupStorageSize: 65536, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 } as GPUSupportedLimits;

const USAGE = `usage: npm run shaders -- <kernel> [variant] <sizes> [--u8] [--epilogue none|bias|bias+ACTIVATION|backward+ACTIVATION] [--gpu]
  matmul <variant name | nn | nt | tn> M,N,K · gatherBatch capacity,features · softmaxCrossEntropy rows,classes
  biasGrad M,N · adamUpdate length · sgdUpdate length
Prints the exact WGSL that runs.`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { u8: { type: 'boolean' }, epilogue: { type: 'string' }, gpu: { type: 'boolean' } } });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const { values: flags, positionals } = parsed;
  const [kernel, ...rest] = positionals;
  if (!KERNELS.includes(kernel as (typeof KERNELS)[number])) throw new UsageError(`the kernel must be one of ${KERNELS.join(', ')}, got '${kernel ?? ''}'`);
  const choices = flags.gpu ? GPU_VARIANTS : DEFAULT_VARIANTS;
  const sizes = (count: number, what: string) => {
    const values = intListFlag(what, rest[rest.length - 1], []);
    if (values.length !== count) throw new UsageError(`${kernel} takes ${what} (${count} numbers separated by commas), got '${rest[rest.length - 1] ?? ''}'`);
    return values;
  };
  let code: string;
  if (kernel === 'matmul') {
    const [M, N, K] = sizes(3, 'M,N,K');
    const shape = { M, N, K, inputU8: flags.u8, ...epilogueFlag(flags.epilogue) };
    const name = rest.length === 2 ? rest[0] : '';
    const variant = ['nn', 'nt', 'tn'].includes(name) ? chooseMatmul(choices, name as MatmulForm, shape, ANY_LIMITS) : parseMatmulVariant(name);
    if (!variant) throw new UsageError(`'${name}' is not a matmul variant name (such as nn-vec4-4x4-wg64) or a form (nn, nt, tn)`);
    console.log(`// ${matmulVariantName(variant)}`);
    code = matmulShader(variant, shape);
  } else if (kernel === 'gatherBatch') {
    const [capacity, features] = sizes(2, 'capacity,features');
    code = gatherBatchShader(64, capacity, features);
  } else if (kernel === 'softmaxCrossEntropy') {
    const [rows, classes] = sizes(2, 'rows,classes');
    code = softmaxCrossEntropyShader({ ...choices.softmax, gradient: true }, rows, classes);
  } else if (kernel === 'biasGrad') {
    const [M, N] = sizes(2, 'M,N');
    code = biasGradShader(chooseFirst(choices.biasGrad, (v) => !v.vec4 || N % 4 === 0, 'biasGrad'), M, N);
  } else {
    const [length] = sizes(1, 'length');
    const v = chooseFirst(choices.optimizer, (o) => !o.vec4 || length % 4 === 0, kernel);
    code = kernel === 'adamUpdate' ? adamUpdateShader(v, length) : sgdUpdateShader(v, length);
  }
  console.log(code.trim());
}

runMain('shaders', main, USAGE);
