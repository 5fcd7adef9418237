// Each kernel's exported binding list (what Ops binds by name) against the bindings its WGSL declares, for
// every family and epilogue, and the loss kernels reading the one Batch struct.
import { describe, expect, it } from 'vitest';
import { BATCH_STRUCT } from '../shaders/batchUniform.js';
import { augmentLinesBindings, augmentBindings, augmentImagesShader, augmentLinesShader } from '../shaders/augment.js';
import { ELASTIC_COLUMNS_BINDINGS, ELASTIC_NOISE_COLUMNS_BINDINGS, ELASTIC_ROWS_BINDINGS, elasticColumnsShader, elasticNoiseColumnsShader, elasticRowsShader } from '../shaders/elastic.js';
import { BIAS_GRAD_BINDINGS, biasGradShader } from '../shaders/biasGrad.js';
import { declaredBindings, inBindingOrder, input, output } from '../shaders/bindings.js';
import {
  GATHER_BATCH_BINDINGS, GATHER_LABELS_BINDINGS, GATHER_TARGETS_BINDINGS, gatherBatchShader, gatherLabelsShader, gatherTargetsShader,
} from '../shaders/gatherBatch.js';
import { targetLossBindings, targetLossShader } from '../shaders/targetLosses.js';
import { matmulBindings, matmulShader, type MatmulForm, type MatmulShape } from '../shaders/matmul.js';
import { activationNamed } from './helpers/matmul.js';
import { ADAM_BINDINGS, adamUpdateShader, SGD_BINDINGS, sgdUpdateShader } from '../shaders/optimizer.js';
import { SOFTMAX_BINDINGS, softmaxCrossEntropyBindings, softmaxCrossEntropyShader, softmaxShader } from '../shaders/softmaxCrossEntropy.js';
import { reduceKVariant, tiledVariant } from '../src/gpu/variants.js';

describe('binding lists match the WGSL', () => {
  const op = (text: string) => activationNamed(text).op;
  const epilogues: [MatmulForm, Pick<MatmulShape, 'epilogue' | 'activation'>][] = [
    ['nn', {}], ['nn', { epilogue: 'bias' }], ['nn', { epilogue: 'biasActivation', activation: op('gelu') }],
    ['nt', { epilogue: 'activationBackward', activation: op('relu') }], ['nt', { epilogue: 'activationBackward', activation: op('leakyrelu') }], ['tn', {}],
  ];
  it.each(epilogues)('matmul %s with epilogue %o, every family', (form, epilogue) => {
    const shape = { M: 37, N: 28, K: 20, ...epilogue };
    for (const v of [
      { form, vec4: false, tileRows: 4, tileCols: 4, workgroupSize: 64 },
      tiledVariant(form, false, 16, 16, 8, 4, 4),
      reduceKVariant(form, 2, 2, 32),
    ]) {
      expect(declaredBindings(matmulShader(v, shape))).toEqual(matmulBindings(shape));
    }
  });

  it('the other kernels', () => {
    expect(declaredBindings(biasGradShader({ workgroupSize: 64, vec4: false }, 5, 7))).toEqual(BIAS_GRAD_BINDINGS);
    expect(declaredBindings(gatherBatchShader(64, 16, 29))).toEqual(GATHER_BATCH_BINDINGS);
    for (const [features, kind] of [[28, 'u8'], [29, 'f32']] as const) expect(declaredBindings(gatherBatchShader(64, 16, features, kind))).toEqual(GATHER_BATCH_BINDINGS);
    expect(declaredBindings(adamUpdateShader({ workgroupSize: 64, vec4: true }, 16))).toEqual(ADAM_BINDINGS);
    expect(declaredBindings(sgdUpdateShader({ workgroupSize: 64, vec4: false }, 16))).toEqual(SGD_BINDINGS);
    expect(declaredBindings(softmaxShader(64, 10))).toEqual(SOFTMAX_BINDINGS);
    const elastic = { capacity: 3, height: 5, width: 6, alpha: 2, taps: [0.25, 0.5, 0.25], drawsStart: 8 };
    expect(declaredBindings(elasticRowsShader(64, elastic))).toEqual(ELASTIC_ROWS_BINDINGS);
    expect(declaredBindings(elasticColumnsShader(64, elastic))).toEqual(ELASTIC_COLUMNS_BINDINGS);
    expect(declaredBindings(elasticNoiseColumnsShader(64, elastic))).toEqual(ELASTIC_NOISE_COLUMNS_BINDINGS);
    expect(declaredBindings(gatherLabelsShader(64, 16))).toEqual(GATHER_LABELS_BINDINGS);
    for (const withField of [true, false]) {
      for (const form of ['u8', 'f32'] as const) {
        for (const source of ['batch', 'dataset'] as const) {
          const code = augmentImagesShader(16, { capacity: 3, channels: 1, height: 5, width: 8, pixelScale: 1, pixelShift: 0, rotate: 0.1, scale: 0, shear: 0, shift: 1, elastic: withField, output: form, source });
          expect(declaredBindings(code)).toEqual(augmentBindings(withField, source));
        }
        const shape = { capacity: 3, channels: 1, height: 5, width: 8, pixelScale: 1, pixelShift: 0, rotate: 0.1, scale: 0, shear: 0, shift: 1, elastic: withField, output: form, source: 'dataset' as const };
        const lines = augmentLinesShader(64, shape, withField ? { alpha: 2, taps: [0.25, 0.5, 0.25] } : undefined);
        expect(declaredBindings(lines)).toEqual(augmentLinesBindings(withField));
      }
    }
    for (const gradient of [true, false]) {
      for (const perRow of ['invocation', 'workgroup'] as const) {
        const code = softmaxCrossEntropyShader({ workgroupSize: 32, perRow, gradient }, 16, 10);
        expect(declaredBindings(code)).toEqual(softmaxCrossEntropyBindings(gradient));
        expect(code).toContain(BATCH_STRUCT);
      }
      for (const loss of ['meanSquaredError', 'sigmoidCrossEntropy'] as const) {
        const code = targetLossShader(loss, { workgroupSize: 32, gradient }, 16, 3);
        expect(declaredBindings(code)).toEqual(targetLossBindings(gradient));
        expect(code).toContain(BATCH_STRUCT);
      }
    }
    expect(declaredBindings(gatherTargetsShader(64, 16, 3))).toEqual(GATHER_TARGETS_BINDINGS);
  });

  it('binds by name and names what is missing or unknown', () => {
    const list = [input('A'), input('B'), output('C')];
    expect(inBindingOrder('matmulNN', list, { C: 3, A: 1, B: 2 })).toEqual([1, 2, 3]);
    expect(() => inBindingOrder('matmulNN', list, { A: 1, C: 3 })).toThrow("matmulNN needs a buffer for its binding 'B'");
    expect(() => inBindingOrder('matmulNN', list, { A: 1, B: 2, C: 3, bias: 4 })).toThrow('matmulNN has no binding named bias (it binds A, B, C)');
  });
});
