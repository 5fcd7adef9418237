// ONNX export: a model's state as an ONNX ModelProto that ONNX Runtime (Node, Web with WASM or WebGPU) runs.
// The graph takes what `predict` takes — u8 pixels [batch, F] (or f32 features) — and does the pixel
// normalization itself, then the layers as ONNX operators on PyTorch's tensors (NCHW images), then what the
// loss makes of the outputs, as predict does: Softmax ('cross-entropy'), Sigmoid ('bce') or nothing ('mse'),
// unless asked for logits. Message field numbers follow onnx/onnx.proto; the writer is ./protobuf.ts.
//   input  'pixels' uint8 [batch, F] (or 'features' float [batch, F]), batch a dynamic dimension
//   output 'probabilities' float [batch, outputs] ('values' for 'mse'; 'logits' when asked)
import { BadInputError } from '../errors.js';
import type { Tensor } from '../data/safetensors.js';
import { architecture } from '../layers/architecture.js';
import type { LayerSpec } from '../layers/index.js';
import type { OnnxAttribute, OnnxLayerGraph } from '../layers/layer.js';
import { isImage } from '../layers/shape.js';
import type { InputKind } from '../data/dataset.js';
import type { InputShape } from '../layers/shape.js';
import { ENGINE_VERSION } from '../version.js';
import { ProtoWriter } from './protobuf.js';
import type { LossKind } from '../data/loss.js';

/** The operator set the graph uses (Gelu needs 20) and the IR version that goes with it. */
export const ONNX_OPSET = 21;
const IR_VERSION = 10;

const FLOAT = 1;
const UINT8 = 2;
const INT64 = 7;

/** What the export reads of a model's state (Model.exportState gives it): its shape, its pixels, its tensors by PyTorch name. */
export interface OnnxSource {
  inputs: InputShape;
  layers: LayerSpec[];
  input: InputKind;
  pixelMean?: number;
  pixelStd?: number;
  /** What the graph ends in: Softmax ('cross-entropy', the default), Sigmoid ('bce') or nothing ('mse'). */
  loss?: LossKind;
  tensors: Map<string, Tensor>;
}

/** Options of Model.toOnnx. */
export interface OnnxOptions {
  /**
   * End in the loss's Softmax ('cross-entropy') or Sigmoid ('bce'), giving 'probabilities' as predict returns,
   * or leave it out and give the 'logits'. Default true. A 'mse' model ends in its 'values' either way.
   */
  softmax?: boolean;
}

interface Node {
  op: string;
  inputs: string[];
  output: string;
  attributes?: Record<string, OnnxAttribute>;
}

function attribute(name: string, value: OnnxAttribute): ProtoWriter {
  // AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7).
  const a = new ProtoWriter().string(1, name);
  if (Array.isArray(value)) return a.packedInts(8, value).int(20, 7);
  if (typeof value === 'object') return a.float(2, value.float).int(20, 1);
  return Number.isInteger(value) ? a.int(3, value).int(20, 2) : a.float(2, value).int(20, 1);
}

function nodeProto(n: Node, index: number): ProtoWriter {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  w.string(2, n.output).string(3, `${n.op}_${index}`).string(4, n.op);
  for (const [name, value] of Object.entries(n.attributes ?? {})) w.message(5, attribute(name, value));
  return w;
}

function tensorProto(name: string, dims: readonly number[], type: number, raw: Uint8Array): ProtoWriter {
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian).
  return new ProtoWriter().packedInts(1, dims).int(2, type).string(8, name).bytes(9, raw);
}

const floatTensor = (name: string, dims: readonly number[], data: ArrayLike<number>) => {
  const raw = new Uint8Array(Float32Array.from(data).buffer);
  return tensorProto(name, dims, FLOAT, raw);
};

const int64Tensor = (name: string, values: number[]) => {
  const raw = new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer);
  return tensorProto(name, [values.length], INT64, raw);
};

function valueInfo(name: string, type: number, dims: (number | string)[]): ProtoWriter {
  // ValueInfoProto: name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1 → dim_value 1 | dim_param 2.
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, type).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

/** The ONNX bytes of a model state (Model.exportState). Refuses, naming the layer, what ONNX cannot express here. */
export function encodeOnnx(state: OnnxSource, options: OnnxOptions = {}): Uint8Array<ArrayBuffer> {
  // The state comes from a model, or from a file read through readModelFile: both checked it as a model does.
  const loss = state.loss ?? 'cross-entropy';
  const arch = architecture(state.layers, state.inputs, loss === 'cross-entropy' ? 2 : 1);
  const F = arch.inputs;
  const nodes: Node[] = [];
  const initializers: ProtoWriter[] = [];
  const tensor = (name: string): Tensor => {
    const t = state.tensors.get(name);
    if (!t) throw new BadInputError(`onnx export: the state has no tensor ${name}`, { tensor: name });
    return t;
  };
  const weight = (name: string) => {
    const t = tensor(name);
    initializers.push(floatTensor(name, t.shape, t.data));
    return name;
  };
  let current = state.input === 'u8' ? 'pixels' : 'features';
  let counter = 0;
  const add = (op: string, inputs: string[], attributes?: Node['attributes']) => {
    const output = `t${counter++}`;
    nodes.push({ op, inputs, output, attributes });
    current = output;
    return output;
  };
  const constant = (name: string, value: number) => {
    initializers.push(floatTensor(name, [], [value]));
    return name;
  };

  if (state.input === 'u8') {
    // x/255 · (1/std) − mean/std, as the first layer reads pixels (src/engine/plan.ts, inputEncodingOf).
    const mean = state.pixelMean ?? 0;
    const std = state.pixelStd ?? 1;
    add('Cast', [current], { to: FLOAT });
    add('Div', [current, constant('pixel_divisor', 255)]);
    if (std !== 1) add('Mul', [current, constant('pixel_scale', Math.fround(1 / std))]);
    if (mean !== 0) add('Add', [current, constant('pixel_shift', Math.fround(-mean / std))]);
  }
  if (isImage(arch.inputShape)) {
    // The engine's rows are channels-last (H, W, C); ONNX's convolutions take NCHW.
    const [C, H, W] = arch.inputShape;
    initializers.push(int64Tensor('image_shape', [-1, H, W, C]));
    add('Reshape', [current, 'image_shape']);
    add('Transpose', [current], { perm: [0, 3, 1, 2] });
  }
  // Each layer writes its own nodes (LayerModule.onnx): a kind in the registry cannot be left out here.
  for (const layer of arch.layers) {
    const graph: OnnxLayerGraph = {
      input: current,
      node: (op, inputs, attributes) => add(op, inputs, attributes),
      tensor: (role) => weight(`${layer.index}.${role}`),
    };
    current = layer.module.onnx(layer.spec as never, layer, graph);
  }
  const probabilities = (options.softmax ?? true) && loss !== 'mse';
  if (probabilities) add(loss === 'bce' ? 'Sigmoid' : 'Softmax', [current], ...(loss === 'bce' ? [] : [{ axis: -1 }]));
  const outputName = probabilities ? 'probabilities' : loss === 'mse' ? 'values' : 'logits';
  // The last node writes the graph's output under its public name.
  nodes[nodes.length - 1].output = outputName;

  const graph = new ProtoWriter();
  nodes.forEach((n, k) => graph.message(1, nodeProto(n, k)));
  graph.string(2, 'webgpu_mlp');
  for (const t of initializers) graph.message(5, t);
  graph.message(11, valueInfo(state.input === 'u8' ? 'pixels' : 'features', state.input === 'u8' ? UINT8 : FLOAT, ['batch', F]));
  graph.message(12, valueInfo(outputName, FLOAT, ['batch', arch.classes]));

  const model = new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, 'webgpu-mlp')
    .string(3, ENGINE_VERSION)
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET));
  const metadata = { architecture: arch.name, layers: arch.text, engine_version: ENGINE_VERSION, input: state.input, loss };
  for (const [key, value] of Object.entries(metadata)) model.message(14, new ProtoWriter().string(1, key).string(2, value));
  return model.finish();
}
