// A model compiled for a batch capacity: every buffer, pipeline and bind group a step needs, made once.
// A step only uploads its batch and encodes these dispatches.
//
// Per layer l (in = sizes[l], out = sizes[l+1], B = capacity rows):
//   forward   h[l][B×out]  = matmulNN(x or h[l−1], W[l]) with the bias (+ReLU except on the last layer) fused
//   loss      softmaxCrossEntropy(dh[last], stats, h[last], labels)
//   backward  dW[l][in×out] = matmulTN(x or h[l−1], dh[l]);  db[l] = biasGrad(dh[l])
//             dh[l−1][B×in] = matmulNT(dh[l], W[l]) masked by h[l−1] > 0 (ReLU backward fused)
// The input x[B×sizes[0]] is raw u8 pixels, packed four to a u32; layer 0 reads them as x/255.
// Rows past the batch's real size (a short last batch) get zero loss gradient, so they add nothing.
import { BATCH_UNIFORM_BYTES, packBatchUniform, type BatchFields } from '../../shaders/batchUniform.js';
import { UniformWords } from '../../shaders/bindings.js';
import { storageBuffer, uniformBuffer } from './buffers.js';
import type { BufferSlice, Dispatch } from './dispatch.js';
import type { MlpParameters } from './mlp.js';
import type { Ops } from './ops.js';
import type { ResidentDataset } from './residentData.js';
import { sliceOf, slotOf } from './paramLayout.js';

const whole = (buffer: GPUBuffer): BufferSlice => ({ buffer });

export type PlanMode = 'train' | 'evaluate' | 'predict';

export interface PixelNormalization {
  pixelScale: number;
  pixelShift: number;
}

export class ModelPlan {
  readonly input: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly batch: GPUBuffer;
  /** Per-row (loss sum, correct count) accumulators, vec2f each. */
  readonly stats: GPUBuffer;
  /** Where stats (and predictions) are copied for reading on the host. */
  readonly statsStaging: GPUBuffer;
  readonly activations: GPUBuffer[];
  activationGrads: GPUBuffer[] = [];
  readonly probabilities?: GPUBuffer;
  readonly probabilitiesStaging?: GPUBuffer;

  readonly forward: Dispatch[] = [];
  readonly loss: Dispatch[] = [];
  readonly backward: Dispatch[] = [];

  /** Bytes of the packed u8 input of a full batch. */
  readonly inputBytes: number;
  /** Where the Batch uniform is packed (reused from step to step). */
  readonly batchWords = new UniformWords(BATCH_UNIFORM_BYTES);

  constructor(
    readonly model: MlpParameters,
    readonly ops: Ops,
    readonly capacity: number,
    readonly mode: PlanMode,
    pixels: PixelNormalization,
  ) {
    const { device, sizes, layers, layout } = model;
    const classes = sizes[sizes.length - 1];
    const B = capacity;
    this.inputBytes = Math.ceil((B * sizes[0]) / 4) * 4;
    this.input = storageBuffer(device, this.inputBytes, 'input u8');
    this.labels = storageBuffer(device, B * 4, 'labels');
    this.batch = uniformBuffer(device, BATCH_UNIFORM_BYTES, 'batch');
    this.stats = storageBuffer(device, B * 8, 'stats');
    this.statsStaging = device.createBuffer({ size: this.stats.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'stats staging' });
    this.activations = layers.map((l, i) => storageBuffer(device, B * l.outputs * 4, `h${i}`));

    const param = (name: string) => sliceOf(model.params, slotOf(layout, name));
    const grad = (name: string) => sliceOf(model.grads, slotOf(layout, name));
    const layerInput = (l: number): BufferSlice => whole(l === 0 ? this.input : this.activations[l - 1]);
    const u8 = (l: number) => (l === 0 ? { inputU8: true, ...pixels } : {});
    const last = layers.length - 1;

    layers.forEach((layer, l) => {
      this.forward.push(
        ops.matmulNN(whole(this.activations[l]), layerInput(l), param(layer.weight), B, layer.outputs, layer.inputs, {
          epilogue: l === last ? 'bias' : 'biasRelu', extra: param(layer.bias), ...u8(l),
        }),
      );
    });

    if (mode === 'predict') {
      this.probabilities = storageBuffer(device, B * classes * 4, 'probabilities');
      this.probabilitiesStaging = device.createBuffer({ size: this.probabilities.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'probabilities staging' });
      this.forward.push(ops.softmax(whole(this.probabilities), whole(this.activations[last]), B, classes));
      return;
    }

    const logits = whole(this.activations[last]);
    if (mode === 'evaluate') {
      this.loss.push(ops.softmaxCrossEntropy(null, whole(this.stats), logits, whole(this.labels), whole(this.batch), B, classes));
      return;
    }

    this.activationGrads = layers.map((l, i) => storageBuffer(device, B * l.outputs * 4, `dh${i}`));
    this.loss.push(
      ops.softmaxCrossEntropy(whole(this.activationGrads[last]), whole(this.stats), logits, whole(this.labels), whole(this.batch), B, classes),
    );
    for (let l = last; l >= 0; l--) {
      const layer = layers[l];
      const dOut = whole(this.activationGrads[l]);
      this.backward.push(ops.matmulTN(grad(layer.weight), layerInput(l), dOut, layer.inputs, layer.outputs, B, u8(l)));
      this.backward.push(ops.biasGrad(grad(layer.bias), dOut, B, layer.outputs));
      if (l > 0) {
        this.backward.push(
          ops.matmulNT(whole(this.activationGrads[l - 1]), dOut, param(layer.weight), B, layer.inputs, layer.outputs, {
            epilogue: 'reluMask', extra: whole(this.activations[l - 1]),
          }),
        );
      }
    }
  }

  /** Queues the Batch uniform: the rows actually present in this batch (≤ capacity), where it starts, its step. */
  writeBatch(fields: BatchFields): void {
    this.model.device.queue.writeBuffer(this.batch, 0, packBatchUniform(this.batchWords, fields));
  }


  /** The dispatch that gathers each training batch from a data set kept in GPU memory (shaders/gatherBatch.ts). */
  gatherFrom(data: ResidentDataset): Dispatch {
    return this.ops.gatherBatch(
      whole(this.input), whole(this.labels), whole(data.images), whole(data.labels), whole(data.order), whole(this.batch), this.capacity, this.model.sizes[0],
    );
  }

  destroy(): void {
    for (const b of [this.input, this.labels, this.batch, this.stats, this.statsStaging, ...this.activations, ...this.activationGrads]) b.destroy();
    this.probabilities?.destroy();
    this.probabilitiesStaging?.destroy();
  }
}
