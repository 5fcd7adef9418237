// The layer kinds, and a model as a list of them. A new kind is a module beside these (see layer.ts; an
// activation is a call to activation.ts), its line in LAYER_MODULES and its spec in LayerSpec; the registry is
// checked against LayerSpec, so the two cannot part.
import { BadInputError } from '../errors.js';
import { avgpool2d, type AvgPool2dSpec } from './avgpool2d.js';
import { batchnorm } from './batchnorm.js';
import { conv2d } from './conv2d.js';
import { dropout } from './dropout.js';
import { flatten } from './flatten.js';
import { gelu } from './gelu.js';
import type { ActivationSpec } from './activation.js';
import type { BatchnormSpec } from './batchnorm.js';
import type { Conv2dSpec } from './conv2d.js';
import type { DropoutSpec } from './dropout.js';
import type { FlattenSpec } from './flatten.js';
import type { LayerModule } from './layer.js';
import { leakyrelu, type LeakyReluArguments } from './leakyrelu.js';
import { linear, type LinearSpec } from './linear.js';
import { maxpool2d, type MaxPool2dSpec } from './maxpool2d.js';
import { relu } from './relu.js';
import { sigmoid } from './sigmoid.js';
import { silu } from './silu.js';
import { tanh } from './tanh.js';

/**
 * One layer as data, one spec per kind, each with the LayerFlags: `{ kind: 'linear', outputs: 500 }`,
 * `{ kind: 'relu' }`, `{ kind: 'conv2d', outChannels: 8, kernel: 5, stride: 1, padding: 0, trainable: false }`, …
 * (`parseLayers` writes them from text such as 'linear:500,relu').
 */
export type LayerSpec = (
  | LinearSpec | Conv2dSpec | MaxPool2dSpec | AvgPool2dSpec | FlattenSpec | BatchnormSpec | DropoutSpec
  | ActivationSpec<'relu'> | ActivationSpec<'tanh'> | ActivationSpec<'sigmoid'> | ActivationSpec<'gelu'>
  | ActivationSpec<'leakyrelu', LeakyReluArguments> | ActivationSpec<'silu'>
) & LayerFlags;

/** Every layer kind's module, by kind: the registry that parseLayers and moduleOf follow, one module per LayerSpec. */
export const LAYER_MODULES = {
  /** Fully connected: 'linear:OUT', PyTorch's nn.Linear (its weight stored [in × out], the transpose). */
  linear,
  /** 2-D convolution on channels-last images: 'conv2d:OUT:k=K[:stride=S][:pad=P]', PyTorch's nn.Conv2d. */
  conv2d,
  /** 2-D max pooling: 'maxpool2d:K[:stride=S]' (S defaults to K), PyTorch's nn.MaxPool2d. */
  maxpool2d,
  /** 2-D average pooling: 'avgpool2d:K[:stride=S]' (S defaults to K), PyTorch's nn.AvgPool2d; avgpool2d:H is global on an H×H map. */
  avgpool2d,
  /** An image row to C·H·W features in PyTorch's (c, h, w) order: 'flatten', nn.Flatten(). */
  flatten,
  /** 'batchnorm': PyTorch's nn.BatchNorm1d after features, nn.BatchNorm2d after an image, with its defaults. */
  batchnorm,
  /** 'dropout:P': in training zeroes each value with probability P (scaling the rest); the identity otherwise. */
  dropout,
  /** y = max(x, 0), PyTorch's nn.ReLU. */
  relu,
  /** y = tanh(x) (input clamped to ±15), PyTorch's nn.Tanh. */
  tanh,
  /** y = 1 / (1 + e^−x), PyTorch's nn.Sigmoid. */
  sigmoid,
  /** y = x Φ(x) in its exact (erf) form, PyTorch's nn.GELU(). */
  gelu,
  /** y = x for x > 0, SLOPE · x otherwise: 'leakyrelu[:SLOPE]' (0.01 by default), PyTorch's nn.LeakyReLU. */
  leakyrelu,
  /** y = x σ(x) (swish), PyTorch's nn.SiLU(). */
  silu,
} as const satisfies { [K in LayerSpec['kind']]: LayerModule<Extract<LayerSpec, { kind: K }>> };

/** What any layer spec may carry besides its kind's own fields. */
export interface LayerFlags {
  /**
   * `false` freezes a layer that has parameters (linear, conv2d, batchnorm): training keeps no gradient and no
   * optimizer update for them, so they stay bit for bit as they are; the input gradient still flows through to
   * the layers before. Default true. Not part of the written form ('conv2d:8:k=5'): checkpoints record it apart.
   */
  trainable?: boolean;
}

/** Every layer kind's name, in LAYER_MODULES' order. */
export const LAYER_KINDS = Object.keys(LAYER_MODULES) as LayerSpec['kind'][];

/** Most layers a model may have: far past any useful depth, well short of what would take minutes to plan. */
export const MAX_LAYERS = 1000;

/** Text as typed, quoted, with invisible and control characters written as \u{…} escapes so the message shows them. */
export const shown = (text: string) => `'${text.replace(/[\p{C}\p{Z}]/gu, (c) => (c === ' ' ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`))}'`;

/** Whether `kind` names a layer kind: LAYER_MODULES' own keys only ('constructor' and 'toString' are not kinds). */
const isKind = (kind: unknown): kind is LayerSpec['kind'] => typeof kind === 'string' && Object.hasOwn(LAYER_MODULES, kind);

export function moduleOf<S extends LayerSpec>(spec: S): LayerModule<S> {
  const kind: unknown = typeof spec === 'object' && spec !== null ? (spec as { kind?: unknown }).kind : undefined;
  if (!isKind(kind)) {
    const got = typeof kind === 'string' ? shown(kind) : typeof spec === 'object' && spec !== null ? `a ${typeof kind} kind` : `${spec === null ? 'null' : typeof spec}, not a { kind } object`;
    throw new BadInputError(`unknown layer kind ${got}: expected ${LAYER_KINDS.join(', ')}`, { value: kind });
  }
  return LAYER_MODULES[kind] as unknown as LayerModule<S>;
}

/**
 * The written form: layers separated by ',', each its kind and then ':'-separated arguments, leading ones by
 * position and the rest as name=value: 'conv2d:16:k=3:pad=1,relu,maxpool2d:2,flatten,linear:10'.
 */
export function parseLayers(text: string): LayerSpec[] {
  if (typeof text !== 'string') throw new BadInputError(`the layer list must be a string such as 'linear:500,relu,linear:10', got ${text === null ? 'null' : typeof text}`, { value: text });
  if (text.trim() === '') throw new BadInputError('the layer list is empty: write it as linear:500,relu,linear:10');
  const parts = text.split(',');
  if (parts.length > MAX_LAYERS) throw new BadInputError(`the layer list has ${parts.length} layers; at most ${MAX_LAYERS}`, { value: parts.length });
  return parts.map((part, index) => {
    const [kind, ...args] = part.trim().split(':');
    if (!isKind(kind)) throw new BadInputError(`unknown layer kind ${shown(kind)} in ${shown(part)} (layer ${index}): expected ${LAYER_KINDS.join(', ')}`, { value: kind });
    try {
      return moduleOf({ kind } as LayerSpec).parse(args);
    } catch (e) {
      throw new BadInputError(`layer ${index} (${shown(part.trim())}): ${(e as Error).message}`);
    }
  });
}

/** The inverse of parseLayers: specs → 'linear:500,relu,linear:10'. */
export const formatLayers = (specs: readonly LayerSpec[]) => specs.map((s) => moduleOf(s).format(s as never)).join(',');

/** The plain MLP of these widths (inputs first, classes last): linear and ReLU in turn, a linear last. */
export function mlpLayerSpecs(sizes: readonly number[], dropoutP = 0): LayerSpec[] {
  return sizes.slice(1).flatMap((outputs, l): LayerSpec[] =>
    l === sizes.length - 2 ? [{ kind: 'linear', outputs }]
      : [{ kind: 'linear', outputs }, { kind: 'relu' }, ...(dropoutP > 0 ? [{ kind: 'dropout', p: dropoutP } as const] : [])],
  );
}
