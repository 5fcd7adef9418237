// npm run shaders [-- --list]                  every kernel of the registry (src/bench/kernelRegistry.ts) with its sizes
// npm run shaders -- <kernel> [variant] <sizes> [--switch…] [--activation NAME] [--epilogue none|bias|bias+NAME|backward+NAME] [--gpu]
// Prints the exact WGSL that runs, so a reviewer reads the kernel rather than its generator.
//   matmulNN 128,500,784 --epilogue bias+relu     the default variant for the shape (software adapters; --gpu for GPUs)
//   matmul <variant name | nn | nt | tn> M,N,K   e.g. matmul nn-tiled-vec4-64x64x16-4x4-wg256 128,500,784 --u8
//   conv2dInputGrad 3,2,9,7,3,2,1 --activation gelu   batch,channels,height,width,kernel,stride,padding
import { parseMatmulVariant, type MatmulEpilogue } from '../../shaders/matmul.js';
import type { ElementwiseOp } from '../../shaders/elementwise.js';
import { EPILOGUE_WRITTEN, kernelFamilies, kernelFamily, kernelUsage } from '../bench/kernelRegistry.js';
import { DEFAULT_VARIANTS, GPU_VARIANTS } from '../gpu/variants.js';
import { moduleOf, parseLayers } from '../layers/index.js';
import { runMain, UsageError } from './args.js';
import { parseArgs } from 'node:util';

/** The activation written `text` ('gelu', 'leakyrelu:0.2'): its elementwise op, as the fusion pass fuses it. */
function activationFlag(flag: string, text: string): ElementwiseOp {
  let specs;
  try {
    specs = parseLayers(text);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
  const op = specs.length === 1 ? moduleOf(specs[0]).elementwise?.(specs[0] as never) : undefined;
  if (!op) throw new UsageError(`${flag}: '${text}' is not an activation (relu, gelu, leakyrelu:0.2, …)`);
  return op;
}

/** --epilogue: none, bias, bias+NAME (the activation's forward after the bias) or backward+NAME. */
function epilogueFlag(text = 'none'): { epilogue: MatmulEpilogue; activation?: ElementwiseOp } {
  if (text === 'none' || text === 'bias') return { epilogue: text };
  const [, kind, name] = text.match(/^(bias|backward)\+(.+)$/) ?? [];
  if (!name) throw new UsageError(`--epilogue must be none, bias, bias+NAME or backward+NAME with NAME an activation (bias+relu), got '${text}'`);
  return { epilogue: kind === 'bias' ? 'biasActivation' : 'activationBackward', activation: activationFlag('--epilogue', name) };
}
// Limits as generous as any adapter's, so that the defaults' order decides, not this machine.
const ANY_LIMITS = { maxComputeWorkgroupStorageSize: 65536, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 } as GPUSupportedLimits;
const SWITCHES = [...new Set(kernelFamilies().flatMap((f) => Object.keys(f.switches ?? {})))];

const USAGE = `usage: npm run shaders -- <kernel> [variant] <sizes> [--switch…] [--activation NAME] [--epilogue none|bias|bias+NAME|backward+NAME] [--gpu]
       npm run shaders [-- --list]   lists every kernel with its sizes and switches
  matmul <variant name | nn | nt | tn> M,N,K (matmulNN, matmulNT, matmulTN with a variant name or none: the default)
  --gpu: the default variants for GPUs (software adapters' otherwise)
Prints the exact WGSL that runs.`;

/** One line per family: how it is written, then what it computes. */
function listing(): string {
  const families = kernelFamilies();
  const written = families.map(kernelUsage);
  const width = Math.max(...written.map((w) => w.length));
  return families.map((f, i) => `${written[i].padEnd(width)}  ${f.description}`).join('\n');
}

async function main(): Promise<void> {
  let parsed;
  try {
    const switches = Object.fromEntries(SWITCHES.map((s) => [s, { type: 'boolean' as const }]));
    parsed = parseArgs({ allowPositionals: true, options: { ...switches, epilogue: { type: 'string' }, activation: { type: 'string' }, gpu: { type: 'boolean' }, list: { type: 'boolean' } } });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const { values: flags, positionals } = parsed;
  if (flags.list || positionals.length === 0) {
    console.log(listing());
    return;
  }
  let [name, ...rest] = positionals;
  let variant = rest.length === 2 ? rest[0] : undefined;
  if (name === 'matmul') {
    // matmul <variant | form> M,N,K: the family of the variant's form.
    const form = ['nn', 'nt', 'tn'].includes(variant ?? '') ? variant : variant && parseMatmulVariant(variant)?.form;
    if (!form) throw new UsageError(`'${variant ?? ''}' is not a matmul variant name (such as nn-vec4-4x4-wg64) or a form (nn, nt, tn)`);
    name = `matmul${form.toUpperCase()}`;
    if (variant === form) variant = undefined;
  }
  const family = kernelFamily(name);
  const usage = kernelUsage(family);
  if (!(family.variants ? [1, 2] : [1]).includes(rest.length)) throw new UsageError(`${family.name} takes ${family.sizes.join(',')}, got '${rest.join(' ')}': ${usage}`);
  const written = rest[rest.length - 1];
  const sizes = written.split(',').map((x) => (/^\d+$/.test(x) ? Number(x) : NaN));
  // Every size at least 1, but a convolution's padding.
  if (sizes.length !== family.sizes.length || !sizes.every((n, i) => n >= (family.sizes[i] === 'padding' ? 0 : 1))) {
    throw new UsageError(`${family.name} takes ${family.sizes.join(',')} (${family.sizes.length} integers ≥ 1 separated by commas), got '${written}': ${usage}`);
  }
  const given = SWITCHES.filter((s) => flags[s as keyof typeof flags]);
  const foreign = given.filter((s) => !(s in (family.switches ?? {})));
  if (foreign.length) throw new UsageError(`${family.name} takes no --${foreign[0]}: ${usage}`);
  const { epilogue, activation } = epilogueFlag(flags.epilogue);
  if (epilogue !== 'none' && !family.epilogues?.includes(epilogue)) throw new UsageError(`${family.name} takes no --epilogue ${EPILOGUE_WRITTEN[epilogue]}: ${usage}`);
  if (flags.activation !== undefined && !family.activation) throw new UsageError(`${family.name} takes no --activation: ${usage}`);
  const kernel = family.kernel(sizes, {
    choices: flags.gpu ? GPU_VARIANTS : DEFAULT_VARIANTS, limits: ANY_LIMITS, variant,
    epilogue, activation: activation ?? (flags.activation === undefined ? undefined : activationFlag('--activation', flags.activation)), switches: new Set(given),
  });
  console.log(`// ${kernel.label}`);
  console.log(kernel.code.trim());
}

runMain('shaders', main, USAGE);
