// jax-js on its WebGPU device: the whole step (value_and_grad of the loss + a hand-written Adam, PyTorch's
// update) under one jit. jax-js frees arrays by reference counting: every function, the jitted step included,
// takes ownership of its array arguments, so `.ref` marks each use of an array that is used again later.
import { blockUntilReady, defaultDevice, init, jit, lax, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { ADAM, CLASSES, INPUTS, type Batch, type Measurement, type Problem } from './problem.js';

/** The parameters by engine name ('0.weight', …): the MLP's in the engine's layout, the CNN's kernels as [out, in, k, k]. */
type Params = Record<string, np.Array>;
type State = { params: Params; m: Params; v: Params; lossSum: np.Array; loss: np.Array };

/** Mean softmax cross-entropy of the MLP over a batch; y is one-hot. */
function mlpLoss(p: Params, x: np.Array, y: np.Array): np.Array {
  const h = nn.relu(np.dot(x, p['0.weight']).add(p['0.bias']));
  const logits = np.dot(h, p['2.weight']).add(p['2.bias']);
  return nn.logSoftmax(logits, -1).mul(y).sum().mul(-1 / x.shape[0]);
}

/** 2×2 max pooling over the last two axes. */
const pool = (h: np.Array) => lax.reduceWindow(h, (w: np.Array) => np.max(w), [2, 2], [2, 2]);

/** The same for PEER_MODELS.cnn, NCHW (x is [B, 1, 28, 28]); the flatten is (c, h, w), as the engine's. */
function cnnLoss(p: Params, x: np.Array, y: np.Array): np.Array {
  const B = x.shape[0];
  const h1 = pool(nn.relu(lax.conv(x, p['0.weight'], [1, 1], 'VALID').add(p['0.bias'].reshape([1, 8, 1, 1]))));
  const h2 = pool(nn.relu(lax.conv(h1, p['3.weight'], [1, 1], 'VALID').add(p['3.bias'].reshape([1, 16, 1, 1]))));
  const logits = np.dot(h2.reshape([B, 256]), p['7.weight']).add(p['7.bias']);
  return nn.logSoftmax(logits, -1).mul(y).sum().mul(-1 / B);
}

let lossFn = mlpLoss;

/** The engine's conv weight [(c·k + i)·k + j][o] as [o, c, k, k]. */
function kernel(weight: Float32Array, channels: number, k: number, out: number): Float32Array {
  const f = new Float32Array(weight.length);
  for (let c = 0; c < channels * k * k; c++) for (let o = 0; o < out; o++) f[o * channels * k * k + c] = weight[c * out + o];
  return f;
}

/** One training step. c1, c2: Adam's bias corrections 1 − β^t, passed in so one compiled step serves every t. */
function adamStep(s: State, x: np.Array, y: np.Array, c1: np.Array, c2: np.Array): State {
  const [loss, grads] = valueAndGrad(lossFn)(tree.ref(s.params), x, y);
  const params = {} as Params;
  const m = {} as Params;
  const v = {} as Params;
  for (const k of Object.keys(s.params)) {
    const g = grads[k];
    m[k] = s.m[k].mul(ADAM.beta1).add(g.ref.mul(1 - ADAM.beta1));
    v[k] = s.v[k].mul(ADAM.beta2).add(g.ref.mul(g).mul(1 - ADAM.beta2));
    // p − lr · (m / c1) / (sqrt(v / c2) + eps)
    const denominator = np.sqrt(v[k].ref.div(c2.ref)).add(ADAM.eps);
    params[k] = s.params[k].sub(m[k].ref.div(c1.ref).mul(ADAM.lr).div(denominator));
  }
  c1.dispose();
  c2.dispose();
  s.loss.dispose();
  return { params, m, v, lossSum: s.lossSum.add(loss.ref), loss };
}

export async function train(p: Problem): Promise<Measurement> {
  if (!(await init('webgpu')).includes('webgpu')) throw new Error('jax-js found no webgpu device');
  defaultDevice('webgpu');
  const B = p.config.batchSize;
  const step = jit(adamStep);
  const cnn = (p.config.model ?? 'mlp') === 'cnn';
  lossFn = cnn ? cnnLoss : mlpLoss;
  // Each tensor in this trainer's layout: linear weights [in × out] as the engine's; conv kernels [out, in, k, k].
  const initial: [string, Float32Array, number[]][] = p.architecture.layers.flatMap((l) => l.parameters.map((t): [string, Float32Array, number[]] => {
    const data = p.tensors.get(t.name)!;
    if (l.spec.kind !== 'conv2d' || t.role !== 'weight') return [t.name, data, t.shape];
    const [channels, k, out] = [l.inputShape[0], l.spec.kernel, l.spec.outChannels];
    return [t.name, kernel(data, channels, k, out), [out, channels, k, k]];
  }));
  const tensors = (make: (data: Float32Array, shape: number[]) => np.Array): Params => Object.fromEntries(initial.map(([name, data, shape]) => [name, make(data, shape)]));
  let state: State = {
    params: tensors((data, shape) => np.array(data, { shape })),
    m: tensors((_d, shape) => np.zeros(shape)),
    v: tensors((_d, shape) => np.zeros(shape)),
    lossSum: np.zeros([]),
    loss: np.zeros([]),
  };
  let t = 0;
  // The step consumes the old state and the batch: nothing survives a step but the new state.
  const run = (batch: Batch): np.Array[] => {
    t += 1;
    const x = np.array(batch.x, { shape: cnn ? [B, 1, 28, 28] : [B, INPUTS] });
    const y = np.array(batch.y, { shape: [B, CLASSES] });
    const consumed = [...tree.leaves(state), x, y];
    state = step(state, x, y, 1 - ADAM.beta1 ** t, 1 - ADAM.beta2 ** t);
    return consumed;
  };

  try {
    run(p.warmupBatches[0]);
    const firstLoss = (await state.loss.ref.data())[0];
    for (const batch of p.warmupBatches.slice(1)) {
      // Untimed ownership check: an array a step consumed but kept alive would leak memory on every step.
      if (run(batch).some((a) => a.refCount !== 0)) throw new Error('a jax-js step left an input array alive');
    }
    await blockUntilReady(state);
    const sumBefore = (await state.lossSum.ref.data())[0];

    const started = performance.now();
    for (const batch of p.timedBatches) run(batch);
    await blockUntilReady(state); // every parameter, so the last update is counted
    const seconds = (performance.now() - started) / 1000;
    const sum = (await state.lossSum.ref.data())[0];
    return { seconds, firstLoss, loss: (sum - sumBefore) / p.timedBatches.length, detail: `jit step on ${state.params['0.weight'].device}` };
  } finally {
    // After a failure mid-step part of the state may be freed already; cleanup must not hide that error.
    try {
      tree.dispose(state);
    } catch {}
    step.dispose();
  }
}
