// The training problem every system gets: the same initial weights, the same images in the same batches and
// order, the same loss and Adam. It replays what the engine's Model does with a seed: the constructor draws the
// initial parameters from Random(seed), then each fit() draws one shuffle of its images; here one warm-up fit
// and one timed fit. The engine trains on the raw sets (and shuffles them itself); the peers get the batches.
import { sliceDataset, type Dataset } from '../../data/dataset.js';
import { architectureOf, initialParams, paramLayoutOf } from '../../engine/mlp.js';
import { slotOf } from '../../engine/paramLayout.js';
import { Random } from '../../gpu/random.js';
import { parseLayers } from '../../layers/index.js';
import type { Architecture } from '../../layers/architecture.js';
import { PEER_MODELS, type PeersConfig } from './protocol.js';

export const SIZES = [784, 500, 10];
export const [INPUTS, HIDDEN, CLASSES] = SIZES;
/** Adam with PyTorch's defaults. */
export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export interface Weights {
  /** [784 × 500] row-major, so that hidden = x · w1 (the engine's layout, the transpose of PyTorch's). */
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

export interface Batch {
  /** Pixels as x/255, [batch × 784]. */
  x: Float32Array;
  /** One-hot labels, [batch × 10]. */
  y: Float32Array;
}

export interface Problem {
  config: PeersConfig;
  /** The network (PEER_MODELS[config.model]) and every initial tensor by engine name, engine layout. */
  architecture: Architecture;
  tensors: Map<string, Float32Array>;
  /** The MLP's four tensors by role (the MLP trainers use these). */
  init: Weights;
  /** The raw u8 images of the warm-up and the timed fit (the engine's input). */
  warmupSet: Dataset;
  timedSet: Dataset;
  /** The same images as float batches in the order the engine visits them (the peers' input). */
  warmupBatches: Batch[];
  timedBatches: Batch[];
  /** The seeded generator's state after the two shuffles: the engine checks it drew the same order. */
  randomStateAfter: Uint32Array;
}

/** What a trainer measures; each of src/pages/peers/{tfjs,jax,engine}.ts exports `train(problem)` giving this. */
export interface Measurement {
  /** Wall time of the timed steps, including a final readback so queued GPU work counts. */
  seconds: number;
  firstLoss: number;
  /** Mean training loss over the timed steps. */
  loss: number;
  detail?: string;
}

/** Warm-up images are the first of the training split, the timed ones follow. */
export function makeProblem(train: Dataset, config: PeersConfig): Problem {
  const { batchSize: B, warmup, steps, seed } = config;
  if ((warmup + steps) * B > train.count) throw new Error(`${warmup + steps} steps of ${B} need more than the ${train.count} training images`);
  const random = new Random(seed);
  const arch = architectureOf({ layers: parseLayers(PEER_MODELS[config.model ?? 'mlp']) });
  const layout = paramLayoutOf(arch, 256); // the values drawn do not depend on the alignment
  const flat = initialParams(layout, arch, random);
  const tensor = (name: string) => {
    const slot = slotOf(layout, name);
    return flat.slice(slot.offset, slot.offset + slot.length);
  };
  const tensors = new Map(layout.tensors.map((t) => [t.name, tensor(t.name)]));
  const mlp = (config.model ?? 'mlp') === 'mlp';
  const none = new Float32Array(0);
  const init = mlp ? { w1: tensor('0.weight'), b1: tensor('0.bias'), w2: tensor('2.weight'), b2: tensor('2.bias') } : { w1: none, b1: none, w2: none, b2: none };
  const warmupSet = sliceDataset(train, 0, warmup * B, 'warm-up');
  const timedSet = sliceDataset(train, warmup * B, steps * B, 'timed');
  const warmupBatches = batches(warmupSet, shuffled(random, warmupSet.count), B);
  const timedBatches = batches(timedSet, shuffled(random, timedSet.count), B);
  return { config, architecture: arch, tensors, init, warmupSet, timedSet, warmupBatches, timedBatches, randomStateAfter: random.state };
}

function shuffled(random: Random, count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return random.shuffle(order);
}

function batches(data: Dataset, order: Uint32Array, B: number): Batch[] {
  const out: Batch[] = [];
  for (let start = 0; start < order.length; start += B) {
    const x = new Float32Array(B * INPUTS);
    const y = new Float32Array(B * CLASSES);
    for (let r = 0; r < B; r++) {
      const index = order[start + r];
      for (let f = 0; f < INPUTS; f++) x[r * INPUTS + f] = data.images[index * INPUTS + f] / 255;
      y[r * CLASSES + data.labels[index]] = 1;
    }
    out.push({ x, y });
  }
  return out;
}
