// linear:OUT — y[B×OUT] = x[B×IN] · weight[IN×OUT] + bias[OUT], PyTorch's nn.Linear (whose weight is the
// transpose, [OUT × IN]). Forward: one matmulNN with the bias (and, from the fusion pass, a following
// activation) as its epilogue. Backward: dWeight = matmulTN(x, dY), dBias = biasGrad(dY), dX = matmulNT(dY, weight),
// with the backward of the activation its input came out of as that product's epilogue when the fusion pass gives one.
import { BadInputError } from '../errors.js';
import * as ref from '../reference/ops.js';
import { activationBackwardEpilogue, biasEpilogue } from '../gpu/ops.js';
import type { MatmulForm, MatmulShape } from '../../shaders/matmul.js';
import { uniformFanIn } from './init.js';
import { leadingInteger, type LayerModule, type ParameterDecl } from './layer.js';
import { formatShape } from './shape.js';

/** A fully connected layer, written 'linear:OUT': PyTorch's nn.Linear(in, OUT). */
export interface LinearSpec {
  /** The layer kind. */
  kind: 'linear';
  /** Output features (OUT), 1 to 65,536. */
  outputs: number;
}

export const MAX_WIDTH = 65536;

export const linear: LayerModule<LinearSpec> = {
  kind: 'linear',
  parse(args) {
    // Decimal digits only, as the flags take them: Number() would also read '1e3' and '0x10'.
    const outputs = args.length === 1 ? leadingInteger(args[0], 1, MAX_WIDTH) : undefined;
    if (outputs === undefined) {
      throw new BadInputError(`linear takes its width, an integer in 1..${MAX_WIDTH} (linear:500), got '${args.join(':')}'`);
    }
    return { kind: 'linear', outputs };
  },
  format: (s) => `linear:${s.outputs}`,
  outputShape(s, input) {
    if (input.length !== 1) throw new BadInputError(`linear takes a feature vector, not a ${formatShape(input)} image: put flatten before it`);
    return [s.outputs];
  },
  parameters: (s, [inputs]): ParameterDecl[] => [
    { role: 'weight', shape: [inputs, s.outputs], transposedInTorch: true, init: uniformFanIn(inputs) },
    { role: 'bias', shape: [s.outputs], transposedInTorch: false, init: uniformFanIn(inputs) },
  ],
  readsModelInput: true,
  fuses: { epilogue: true, inputGrad: true },

  forward: (b) => [
    b.ops.matmulNN(b.output, b.input, b.param('weight'), b.rows, b.place.outputs, b.place.inputs, {
      ...biasEpilogue(b.param('bias'), b.epilogue), ...(b.pixels ? { inputU8: true, ...b.pixels } : {}),
    }),
  ],
  backward(b) {
    const { rows, place } = b;
    const dispatches = b.frozen ? [] : [
      b.ops.matmulTN(b.grad('weight'), b.input, b.dOutput, place.inputs, place.outputs, rows, b.pixels ? { inputU8: true, ...b.pixels } : {}),
      b.ops.biasGrad(b.grad('bias'), b.dOutput, rows, place.outputs),
    ];
    if (b.dInput) {
      dispatches.push(b.ops.matmulNT(b.dInput, b.dOutput, b.param('weight'), rows, place.inputs, place.outputs,
        activationBackwardEpilogue(b.inputGradActivation)));
    }
    return dispatches;
  },

  products: (_s, place, rows, modelInput) => [
    ['nn', { M: rows, N: place.outputs, K: place.inputs, inputU8: modelInput === 'u8' }],
    ['tn', { M: place.inputs, N: place.outputs, K: rows, inputU8: modelInput === 'u8' }],
    // The model's input needs no gradient.
    ...(modelInput ? [] : [['nt', { M: rows, N: place.inputs, K: place.outputs }] as [MatmulForm, MatmulShape]]),
  ],

  referenceForward(x, r) {
    const y = new Float64Array(r.rows * r.place.outputs);
    ref.matmulNN(y, x, r.param('weight'), r.rows, r.place.outputs, r.place.inputs);
    ref.addBias(y, r.param('bias'), r.rows, r.place.outputs);
    return y;
  },
  referenceBackward(dY, x, _y, r) {
    const { rows, place } = r;
    ref.matmulTN(r.grad('weight'), x, dY, place.inputs, place.outputs, rows);
    ref.biasGrad(r.grad('bias'), dY, rows, place.outputs);
    const dX = new Float64Array(rows * place.inputs);
    ref.matmulNT(dX, dY, r.param('weight'), rows, place.inputs, place.outputs);
    return dX;
  },

  onnx: (_s, _place, g) => g.node('Gemm', [g.input, g.tensor('weight'), g.tensor('bias')], { transB: 1 }),
  torch: (s, place) => ({ module: 'Linear', args: { in_features: place.inputs, out_features: s.outputs } }),
  doc: { written: 'linear:OUT', torch: 'nn.Linear(in, OUT)', notes: `takes a feature vector; OUT ≤ ${MAX_WIDTH}` },
  examples: [{ layer: 'linear:6', input: [5] }],
  refuses: ['linear', 'linear:0', 'linear:1e3', 'linear:0x10', `linear:${MAX_WIDTH + 1}`, 'linear:5:6'],
};
