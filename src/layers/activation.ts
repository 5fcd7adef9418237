// An activation layer from the elementwise template (shaders/elementwise.ts): its name, its forward and
// backward as WGSL expressions, and the same two as float64 functions. Output shape = input shape, no
// parameters. A new activation is a module that calls this, plus its line in LAYER_MODULES (index.ts).
import { BadInputError } from '../errors.js';
import type { ElementwiseOp } from '../../shaders/elementwise.js';
import type { LayerModule } from './layer.js';

/** An activation: its kind's name, its WGSL forward and backward expressions, and their float64 twins. */
export interface ActivationDefinition<K extends string> extends ElementwiseOp {
  /** The layer kind it defines ('relu'), also naming its kernels. */
  name: K;
  /** Float64 twins: y = f(x), and dx from dy, x and y. */
  f(x: number): number;
  /** The input gradient dx from the output gradient dy, the input x and the output y = f(x). */
  df(dy: number, x: number, y: number): number;
}

/** An activation layer as data: its kind alone, `{ kind: 'relu' }`. */
export interface ActivationSpec<K extends string = string> {
  /** The activation's name, as written ('relu'). */
  kind: K;
}

/** The layer module of an activation: elementwise, output shape = input shape, no parameters, no arguments. */
export function activation<K extends string>(op: ActivationDefinition<K>): LayerModule<ActivationSpec<K>> & {
  /** The definition it was made from (its kernels' expressions and float64 twins). */
  op: ActivationDefinition<K>;
} {
  return {
    kind: op.name,
    op,
    parse(args) {
      if (args.length) throw new BadInputError(`${op.name} takes no argument, got '${op.name}:${args.join(':')}'`);
      return { kind: op.name };
    },
    format: () => op.name,
    outputShape: (_s, input) => input,
    parameters: () => [],

    forward: (b) => [b.ops.elementwiseForward(op, b.output, b.input, b.rows * b.place.outputs)],
    backward: (b) => (b.dInput ? [b.ops.elementwiseBackward(op, b.dInput, b.dOutput, b.input, b.output, b.rows * b.place.outputs)] : []),

    referenceForward: (x) => x.map(op.f),
    referenceBackward(dY, x, y) {
      const dX = new Float64Array(dY.length);
      for (let i = 0; i < dX.length; i++) dX[i] = op.df(dY[i], x[i], y[i]);
      return dX;
    },
  };
}
