// The layer kinds, and a model as a list of them. A new kind is a module beside these (see layer.ts), its
// spec in LayerSpec and its module in LAYER_MODULES.
import { dropout, type DropoutSpec } from './dropout.js';
import type { LayerModule } from './layer.js';
import { linear, type LinearSpec } from './linear.js';
import { relu, type ReluSpec } from './relu.js';

export type LayerSpec = LinearSpec | ReluSpec | DropoutSpec;

export const LAYER_MODULES: { [K in LayerSpec['kind']]: LayerModule<Extract<LayerSpec, { kind: K }>> } = { linear, relu, dropout };

export const LAYER_KINDS = Object.keys(LAYER_MODULES) as LayerSpec['kind'][];

export function moduleOf<S extends LayerSpec>(spec: S): LayerModule<S> {
  const module = LAYER_MODULES[spec.kind] as unknown as LayerModule<S> | undefined;
  if (!module) throw new Error(`unknown layer kind '${spec.kind}': expected ${LAYER_KINDS.join(', ')}`);
  return module;
}

/** 'linear:500,relu,dropout:0.2,linear:10' → specs. */
export function parseLayers(text: string): LayerSpec[] {
  if (text.trim() === '') throw new Error('the layer list is empty: write it as linear:500,relu,linear:10');
  return text.split(',').map((part) => {
    const [kind, argument, ...more] = part.trim().split(':');
    if (!(kind in LAYER_MODULES)) throw new Error(`unknown layer kind '${kind}' in '${part}': expected ${LAYER_KINDS.join(', ')}`);
    if (more.length) throw new Error(`layer '${part}' has more than one argument`);
    return moduleOf({ kind } as LayerSpec).parse(argument);
  });
}

export const formatLayers = (specs: readonly LayerSpec[]) => specs.map((s) => moduleOf(s).format(s)).join(',');

/** The plain MLP of these widths (inputs first, classes last): linear and ReLU in turn, a linear last. */
export function mlpLayerSpecs(sizes: readonly number[], dropoutP = 0): LayerSpec[] {
  return sizes.slice(1).flatMap((outputs, l): LayerSpec[] =>
    l === sizes.length - 2 ? [{ kind: 'linear', outputs }]
      : [{ kind: 'linear', outputs }, { kind: 'relu' }, ...(dropoutP > 0 ? [{ kind: 'dropout', p: dropoutP } as const] : [])],
  );
}
