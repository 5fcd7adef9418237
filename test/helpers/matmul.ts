// One matmul case's inputs and its run on the GPU, shared by the f32 and the half-precision matmul tests.
import type { MatmulEpilogue, MatmulVariant } from '../../shaders/matmul.js';
import type { ElementwiseOp } from '../../shaders/elementwise.js';
import { readFloats, storageBuffer } from '../../src/gpu/buffers.js';
import type { Ops } from '../../src/gpu/ops.js';
import * as ref from '../../src/reference/ops.js';
import { moduleOf, parseLayers } from '../../src/layers/index.js';
import { gpuArray, randomArray, runDispatches } from './gpu.js';

export interface MatmulCase {
  M: number; N: number; K: number; epilogue?: MatmulEpilogue; inputU8?: boolean;
  /** The activation of a biasActivation or activationBackward epilogue (activationNamed(…).op). */
  activation?: ElementwiseOp;
}

type Twins = ReturnType<typeof twinsOf>;
const named = new Map<string, Twins>();
const twinsByOp = new WeakMap<ElementwiseOp, Twins>();

function twinsOf(text: string) {
  const [spec] = parseLayers(text);
  const module = moduleOf(spec);
  const r = { spec } as never;
  return {
    op: module.elementwise!(spec as never),
    forward: (x: Float64Array) => module.referenceForward(x, r),
    backward: (dY: Float64Array, x: Float64Array, y: Float64Array) => module.referenceBackward(dY, x, y, r),
  };
}

/** The activation written `text` ('relu', 'leakyrelu:0.2'): its elementwise op and its float64 twins over whole arrays. */
export function activationNamed(text: string): Twins {
  if (!named.has(text)) {
    const twins = twinsOf(text);
    named.set(text, twins);
    twinsByOp.set(twins.op, twins);
  }
  return named.get(text)!;
}

/** The epilogues the engine fuses for a ReLU, as case fields. */
export const BIAS_RELU = { epilogue: 'biasActivation', activation: activationNamed('relu').op } as const;
export const RELU_BACKWARD = { epilogue: 'activationBackward', activation: activationNamed('relu').op } as const;

/**
 * Seeded inputs of a case: A as f32 or as u8 pixels (`aSeen`: what the kernel must read, byte/255), B, the bias,
 * and the activation's x and y for activationBackward (independent: the kernel only reads them).
 */
export function matmulInputs(c: MatmulCase, seed: number) {
  const aCount = c.M * c.K;
  const b = randomArray(c.N * c.K, seed + 1);
  const extra = randomArray(c.N, seed + 2);
  const x = randomArray(c.M * c.N, seed + 3);
  const y = randomArray(c.M * c.N, seed + 4);
  const bytes = new Uint8Array(Math.ceil(aCount / 4) * 4);
  for (let i = 0; i < aCount; i++) bytes[i] = (i * 37 + seed * 11) % 256;
  const aFloat = randomArray(aCount, seed);
  const aSeen: ArrayLike<number> = c.inputU8 ? Array.from(bytes.subarray(0, aCount), (v) => v / 255) : aFloat;
  return { aFloat, bytes, aSeen, b, extra, x, y };
}

/** The case's epilogue on the float64 product `out`, as the kernel runs it. */
export function epilogueReference(out: Float64Array, c: MatmulCase, inputs: ReturnType<typeof matmulInputs>): Float64Array<ArrayBufferLike> {
  const epilogue = c.epilogue ?? 'none';
  if (epilogue === 'bias' || epilogue === 'biasActivation') ref.addBias(out, inputs.extra, c.M, c.N);
  if (epilogue === 'biasActivation') return twinsByOp.get(c.activation!)!.forward(out);
  if (epilogue === 'activationBackward') return twinsByOp.get(c.activation!)!.backward(out, Float64Array.from(inputs.x), Float64Array.from(inputs.y));
  return out;
}

/** Runs variant `v` on the case's inputs; C as read back, and the dispatch's label. */
export async function runMatmul(device: GPUDevice, ops: Ops, v: MatmulVariant, c: MatmulCase, inputs: ReturnType<typeof matmulInputs>) {
  const aBuf = c.inputU8 ? gpuArray(device, new Uint32Array(inputs.bytes.buffer)) : gpuArray(device, inputs.aFloat);
  const out = storageBuffer(device, c.M * c.N * 4, 'C');
  const epilogue = c.epilogue ?? 'none';
  const activation = c.activation ? { op: c.activation, x: { buffer: gpuArray(device, inputs.x) }, y: { buffer: gpuArray(device, inputs.y) } } : undefined;
  const dispatch = ops.matmul(v.form, { buffer: out }, { buffer: aBuf }, { buffer: gpuArray(device, inputs.b) }, c.M, c.N, c.K, {
    variant: v, epilogue, inputU8: c.inputU8, activation,
    extra: epilogue === 'bias' || epilogue === 'biasActivation' ? { buffer: gpuArray(device, inputs.extra) } : undefined,
  });
  await runDispatches(device, [dispatch]);
  return { got: await readFloats(device, out, 0, c.M * c.N), label: dispatch.label };
}
