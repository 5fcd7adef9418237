// An activation layer from the elementwise template (shaders/elementwise.ts): its name, its forward and
// backward as WGSL expressions, the same two as float64 functions, its ONNX operator and its PyTorch module.
// Output shape = input shape, no parameters. An activation may take numbers after its name, each with a
// default ('leakyrelu' or 'leakyrelu:0.2'): they reach the WGSL expressions as constants of their names, and
// the float64 twins, ONNX attributes and PyTorch arguments as `a`. A new activation is a module that calls
// this, plus its line in LAYER_MODULES (index.ts).
import { BadInputError } from '../errors.js';
import { f32Literal } from '../../shaders/common.js';
import type { ElementwiseOp } from '../../shaders/elementwise.js';
import type { LayerDoc, LayerExample, LayerModule, OnnxAttribute, OnnxLayerGraph } from './layer.js';

/** An activation's numeric argument: its default, and the written form's name for it in the docs. */
export interface ActivationArgument {
  /** The value when it is not written ('leakyrelu' is 'leakyrelu:0.01'). */
  default: number;
  /** How the docs write it: 'SLOPE'. */
  written: string;
}

/** An activation: its kind's name, its WGSL forward and backward expressions, and their float64 twins. */
export interface ActivationDefinition<K extends string, A extends Record<string, number> = Record<never, number>> {
  /** The layer kind it defines ('relu'), also naming its kernels. */
  name: K;
  /** WGSL expression of x: f32 (and the arguments, by name). */
  forward: string;
  /** WGSL expression of dy, x, y: f32 (and the arguments, by name). */
  backward: string;
  /** WGSL functions the two expressions call (erf for GELU). Default none. */
  helpers?: string;
  /** Its arguments in written order, each a finite number: { slope: { default: 0.01, written: 'SLOPE' } }. Default none. */
  arguments?: { [N in keyof A]: ActivationArgument };
  /** Float64 twins: y = f(x). */
  f(x: number, a: A): number;
  /** The input gradient dx from the output gradient dy, the input x and the output y = f(x). */
  df(dy: number, x: number, y: number, a: A): number;
  /** Its ONNX operator ('Relu'), with the attributes the arguments give; or, where the operator set has none, its nodes. */
  onnx: {
    /** The ONNX operator: 'Relu'. */
    op: string;
    /** Its attributes from the arguments: { alpha: { float: a.slope } }. Default none. */
    attributes?(a: A): Record<string, OnnxAttribute>;
  } | {
    /** Writes its nodes on graph.input and returns the name of their output (silu: Mul(x, Sigmoid(x))). */
    nodes(graph: OnnxLayerGraph, a: A): string;
  };
  /** Its class in torch.nn ('ReLU'), with the keyword arguments the arguments give. */
  torch: {
    /** The class in torch.nn: 'ReLU'. */
    module: string;
    /** Its keyword arguments from the arguments: { negative_slope: a.slope }. Default none. */
    args?(a: A): Record<string, number>;
  };
  /** Its PyTorch module as the docs write it ('nn.ReLU()'), and notes. */
  doc: Pick<LayerDoc, 'torch' | 'notes'>;
  /** Extra cases for the conformance test (it runs every activation on features anyway). */
  examples?: LayerExample[];
  /** Extra written forms its parse must refuse. */
  refuses?: string[];
}

/** An activation's spec: its kind, and its arguments where it has any (left out: their defaults). */
export type ActivationSpec<K extends string, A extends Record<string, number> = Record<never, number>> = {
  /** The activation's name, as written ('leakyrelu'). */
  kind: K;
} & Partial<A>;

// A decimal as the written form takes it (0.2, -0.5, .2, 1e-3): Number() would also read '0x10', 'Infinity' and ' '.
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
// Each argument becomes a WGSL f32 constant: it must be one.
const F32_MAX = 3.4028234663852886e38;

/**
 * The elementwise op of an activation's spec: its arguments as WGSL constants before the expressions (its code, and
 * so its pipeline, differs per value; its kernels keep the kind's name).
 */
export function elementwiseOp<K extends string, A extends Record<string, number>>(def: ActivationDefinition<K, A>, spec: ActivationSpec<K, A>): ElementwiseOp {
  const names = Object.keys(def.arguments ?? {}) as (keyof A & string)[];
  const constants = names.map((n) => `const ${n} = ${f32Literal(spec[n] ?? def.arguments![n].default)};`).join('\n');
  return { name: def.name, forward: def.forward, backward: def.backward, helpers: `${constants}\n${def.helpers ?? ''}` };
}

/** The layer module of an activation: elementwise, output shape = input shape, no parameters. */
export function activation<K extends string, A extends Record<string, number> = Record<never, number>>(def: ActivationDefinition<K, A>): LayerModule<ActivationSpec<K, A>> & {
  /** The definition it was made from (its kernels' expressions and float64 twins). */
  def: ActivationDefinition<K, A>;
} {
  const names = Object.keys(def.arguments ?? {}) as (keyof A & string)[];
  const argumentsOf = (spec: ActivationSpec<K, A>): A =>
    Object.fromEntries(names.map((n) => [n, spec[n] ?? def.arguments![n].default])) as A;
  const opOf = (spec: ActivationSpec<K, A>): ElementwiseOp => elementwiseOp(def, spec);
  const written = `${def.name}${names.map((n) => `[:${def.arguments![n].written}]`).join('')}`;
  const defaults = names.map((n) => `${n} ${def.arguments![n].default}`).join(', ');
  return {
    kind: def.name as ActivationSpec<K, A>['kind'],
    def,
    parse(args) {
      if (args.length > names.length) {
        throw new BadInputError(names.length === 0
          ? `${def.name} takes no argument, got '${def.name}:${args.join(':')}'`
          : `${def.name} takes at most ${names.length} argument(s) (${written}), got '${def.name}:${args.join(':')}'`);
      }
      const spec = { kind: def.name } as ActivationSpec<K, A>;
      args.forEach((text, i) => {
        const value = DECIMAL.test(text.trim()) ? Number(text) : NaN;
        if (!(Math.abs(value) <= F32_MAX)) throw new BadInputError(`${def.name} ${names[i]} must be a finite number (${def.name}:${def.arguments![names[i]].default}), got '${text}'`);
        (spec as Record<string, number>)[names[i]] = value;
      });
      return spec;
    },
    // Trailing arguments at their defaults are left out: 'leakyrelu', 'leakyrelu:0.2'.
    format(spec) {
      const values = names.map((n) => spec[n] ?? def.arguments![n].default);
      let last = values.length;
      while (last > 0 && values[last - 1] === def.arguments![names[last - 1]].default) last--;
      return [def.name, ...values.slice(0, last).map(String)].join(':');
    },
    outputShape: (_s, input) => input,
    parameters: () => [],
    elementwise: opOf,

    forward: (b) => [b.ops.elementwiseForward(opOf(b.spec), b.output, b.input, b.rows * b.place.outputs)],
    backward: (b) => (b.dInput ? [b.ops.elementwiseBackward(opOf(b.spec), b.dInput, b.dOutput, b.input, b.output, b.rows * b.place.outputs)] : []),

    referenceForward(x, r) {
      const a = argumentsOf(r.spec);
      return x.map((v) => def.f(v, a));
    },
    referenceBackward(dY, x, y, r) {
      const a = argumentsOf(r.spec);
      const dX = new Float64Array(dY.length);
      for (let i = 0; i < dX.length; i++) dX[i] = def.df(dY[i], x[i], y[i], a);
      return dX;
    },

    onnx: (spec, _place, graph) => ('nodes' in def.onnx
      ? def.onnx.nodes(graph, argumentsOf(spec))
      : graph.node(def.onnx.op, [graph.input], def.onnx.attributes?.(argumentsOf(spec)))),
    torch: (spec) => ({ module: def.torch.module, args: def.torch.args?.(argumentsOf(spec)) ?? {} }),
    doc: { written, torch: def.doc.torch, notes: [def.doc.notes, names.length ? `default ${defaults}` : ''].filter(Boolean).join('; ') },
    // Elementwise kernels do not care for the shape: an image case is the definition's to add.
    examples: [{ layer: def.name, input: [6] }, ...(def.examples ?? [])],
    refuses: [`${def.name}:1:2:3:4:5:6:7:8`, ...(names.length ? [`${def.name}:x`, `${def.name}:1e999`, `${def.name}:0x10`] : []), ...(def.refuses ?? [])],
  };
}
