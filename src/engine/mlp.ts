// A multilayer perceptron whose parameters live in one flat GPU buffer.
// Layer l maps sizes[l] → sizes[l+1]: weight [in × out] (row-major, the transpose of PyTorch's nn.Linear.weight),
// bias [out]; ReLU between layers, none after the last (its outputs are the logits).
import { makeParamLayout, slotOf, type ParamLayout } from './paramLayout.js';
import { Random } from './random.js';
import { readFloats, storageBuffer } from './buffers.js';

export interface MlpConfig {
  /** Layer widths, input first, classes last. Default [784, 500, 10]. */
  sizes?: number[];
  /** Seeds initialization and, in fit, the shuffling. Default 0. */
  seed?: number;
  /** Inputs are u8 pixels read as x/255; with mean and std (on that scale) they are standardized too. */
  pixelMean?: number;
  pixelStd?: number;
}

export interface LayerTensors {
  weight: string;
  bias: string;
  inputs: number;
  outputs: number;
}

export const DEFAULT_SIZES = [784, 500, 10];

export function validateSizes(sizes: number[]): void {
  if (sizes.length < 2) throw new Error(`an MLP needs at least 2 sizes (inputs, classes), got [${sizes.join(', ')}]`);
  for (const s of sizes) {
    if (!Number.isInteger(s) || s < 1 || s > 65536) throw new Error(`layer size must be an integer in 1..65536, got ${s}`);
  }
  if (sizes[sizes.length - 1] < 2) throw new Error(`the last layer needs at least 2 classes, got ${sizes[sizes.length - 1]}`);
}

export function mlpLayers(sizes: number[]): LayerTensors[] {
  return sizes.slice(1).map((outputs, l) => ({ weight: `layer${l}.weight`, bias: `layer${l}.bias`, inputs: sizes[l], outputs }));
}

export function mlpParamLayout(sizes: number[], alignmentBytes: number): ParamLayout {
  return makeParamLayout(
    mlpLayers(sizes).flatMap((l) => [
      { name: l.weight, shape: [l.inputs, l.outputs] },
      { name: l.bias, shape: [l.outputs] },
    ]),
    alignmentBytes,
  );
}

/** PyTorch's nn.Linear default: weight and bias uniform in ±1/√fan_in (kaiming_uniform with a = √5). */
export function initialParams(layout: ParamLayout, sizes: number[], random: Random): Float32Array {
  const flat = new Float32Array(layout.totalLength);
  for (const layer of mlpLayers(sizes)) {
    const bound = 1 / Math.sqrt(layer.inputs);
    for (const name of [layer.weight, layer.bias]) {
      const slot = slotOf(layout, name);
      for (let i = 0; i < slot.length; i++) flat[slot.offset + i] = random.uniform(-bound, bound);
    }
  }
  return flat;
}

/** The GPU side of a model: its parameter buffer and the flat buffers shaped like it. */
export class MlpParameters {
  readonly sizes: number[];
  readonly layers: LayerTensors[];
  readonly layout: ParamLayout;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;

  constructor(readonly device: GPUDevice, sizes: number[]) {
    validateSizes(sizes);
    this.sizes = [...sizes];
    this.layers = mlpLayers(sizes);
    this.layout = mlpParamLayout(sizes, device.limits.minStorageBufferOffsetAlignment);
    const bytes = this.layout.totalLength * 4;
    if (bytes > device.limits.maxStorageBufferBindingSize) {
      throw new Error(`model needs ${bytes} bytes of parameters; the device binds at most ${device.limits.maxStorageBufferBindingSize}`);
    }
    this.params = storageBuffer(device, bytes, 'params');
    this.grads = storageBuffer(device, bytes, 'grads');
  }

  /** A zeroed buffer with the parameters' layout (optimizer state). */
  makeStateBuffer(label: string): GPUBuffer {
    return storageBuffer(this.device, this.layout.totalLength * 4, label);
  }

  upload(flat: Float32Array): void {
    if (flat.length !== this.layout.totalLength) throw new Error(`expected ${this.layout.totalLength} floats, got ${flat.length}`);
    this.device.queue.writeBuffer(this.params, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  async download(buffer: GPUBuffer = this.params): Promise<Float32Array> {
    return readFloats(this.device, buffer, 0, this.layout.totalLength);
  }

  destroy(): void {
    this.params.destroy();
    this.grads.destroy();
  }
}
