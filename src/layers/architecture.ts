// A model's list of layers, checked and placed: each layer's input and output widths, its index (PyTorch's
// nn.Sequential index, so a dropout shifts the indices after it as it does there) and its parameter
// tensors, named `${index}.weight` etc. Everything that walks a model walks this.
import { moduleOf, formatLayers, type LayerSpec } from './index.js';
import type { LayerModule, LayerPlace, ParameterDecl } from './layer.js';

export interface PlacedParameter extends ParameterDecl {
  /** `${index}.${role}`: the PyTorch state-dict name and the engine's. */
  name: string;
}

export interface PlacedLayer extends LayerPlace {
  spec: LayerSpec;
  module: LayerModule<LayerSpec>;
  parameters: PlacedParameter[];
}

export interface Architecture {
  inputs: number;
  layers: PlacedLayer[];
  classes: number;
  /** Widths through the linear layers, inputs first: [784, 500, 10] for the reference MLP. */
  sizes: number[];
  /** The written form, 'linear:500,relu,linear:10'. */
  text: string;
}

export function architecture(specs: readonly LayerSpec[], inputs: number): Architecture {
  if (!(Number.isInteger(inputs) && inputs >= 1)) throw new Error(`a model needs a positive integer input width, got ${inputs}`);
  if (specs.length === 0) throw new Error('a model needs at least one layer');
  let width = inputs;
  const layers = specs.map((spec, index): PlacedLayer => {
    const module = moduleOf(spec);
    const written = module.format(spec as never);
    const where = `layer ${index} (${written})`;
    // A spec built in code is checked as its written form would be.
    module.parse(written.includes(':') ? written.slice(written.indexOf(':') + 1) : undefined);
    if (index === 0 && !module.readsPixels) throw new Error(`${where}: the first layer reads the u8 pixels or f32 features, which only linear can`);
    if (module.fusedAs) {
      const before = specs[index - 1];
      if (!before || !moduleOf(before).takesActivation) throw new Error(`${where}: a ${spec.kind} must follow a linear layer`);
    }
    const outputs = module.outputs(spec as never, width);
    const parameters = module.parameters(spec as never, width).map((p) => ({ ...p, name: `${index}.${p.role}` }));
    const placed = { spec, module: module as LayerModule<LayerSpec>, index, inputs: width, outputs, parameters };
    width = outputs;
    return placed;
  });
  const last = specs[specs.length - 1];
  if (last.kind !== 'linear') throw new Error(`the last layer must be linear (its outputs are the class scores), got ${moduleOf(last).format(last as never)}`);
  if (width < 2) throw new Error(`the last layer needs at least 2 classes, got ${width}`);
  const sizes = [inputs, ...layers.filter((l) => l.spec.kind === 'linear').map((l) => l.outputs)];
  return { inputs, layers, classes: width, sizes, text: formatLayers(specs) };
}

/** All parameter tensors in order, as the flat layout holds them. */
export const parametersOf = (a: Architecture): PlacedParameter[] => a.layers.flatMap((l) => l.parameters);
