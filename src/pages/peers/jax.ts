// jax-js on its WebGPU device: the whole step (value_and_grad of the loss + a hand-written Adam, PyTorch's
// update) under one jit. jax-js frees arrays by reference counting: every function, the jitted step included,
// takes ownership of its array arguments, so `.ref` marks each use of an array that is used again later.
import { blockUntilReady, defaultDevice, init, jit, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { ADAM, CLASSES, HIDDEN, INPUTS, type Batch, type Measurement, type Problem } from './problem.js';

type Params = { w1: np.Array; b1: np.Array; w2: np.Array; b2: np.Array };
type State = { params: Params; m: Params; v: Params; lossSum: np.Array; loss: np.Array };
const KEYS = ['w1', 'b1', 'w2', 'b2'] as const;

/** Mean softmax cross-entropy of the MLP over a batch; y is one-hot. */
function lossFn(p: Params, x: np.Array, y: np.Array): np.Array {
  const h = nn.relu(np.dot(x, p.w1).add(p.b1));
  const logits = np.dot(h, p.w2).add(p.b2);
  return nn.logSoftmax(logits, -1).mul(y).sum().mul(-1 / x.shape[0]);
}

/** One training step. c1, c2: Adam's bias corrections 1 − β^t, passed in so one compiled step serves every t. */
function adamStep(s: State, x: np.Array, y: np.Array, c1: np.Array, c2: np.Array): State {
  const [loss, grads] = valueAndGrad(lossFn)(tree.ref(s.params), x, y);
  const params = {} as Params;
  const m = {} as Params;
  const v = {} as Params;
  for (const k of KEYS) {
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
  const weights = (data: Float32Array, shape: number[]) => np.array(data, { shape });
  const shapes = { w1: [INPUTS, HIDDEN], b1: [HIDDEN], w2: [HIDDEN, CLASSES], b2: [CLASSES] };
  let state: State = {
    params: { w1: weights(p.init.w1, shapes.w1), b1: weights(p.init.b1, shapes.b1), w2: weights(p.init.w2, shapes.w2), b2: weights(p.init.b2, shapes.b2) },
    m: { w1: np.zeros(shapes.w1), b1: np.zeros(shapes.b1), w2: np.zeros(shapes.w2), b2: np.zeros(shapes.b2) },
    v: { w1: np.zeros(shapes.w1), b1: np.zeros(shapes.b1), w2: np.zeros(shapes.w2), b2: np.zeros(shapes.b2) },
    lossSum: np.zeros([]),
    loss: np.zeros([]),
  };
  let t = 0;
  // The step consumes the old state and the batch: nothing survives a step but the new state.
  const run = (batch: Batch): np.Array[] => {
    t += 1;
    const x = np.array(batch.x, { shape: [B, INPUTS] });
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
    return { seconds, firstLoss, loss: (sum - sumBefore) / p.timedBatches.length, detail: `jit step on ${state.params.w1.device}` };
  } finally {
    // After a failure mid-step part of the state may be freed already; cleanup must not hide that error.
    try {
      tree.dispose(state);
    } catch {}
    step.dispose();
  }
}
