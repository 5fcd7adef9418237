// TensorFlow.js on its WebGPU backend, written the idiomatic way: variables, fused matMul+bias(+ReLU) (the
// CNN: fused conv2d+bias+ReLU, maxPool, the (c, h, w) flatten), tf.losses.softmaxCrossEntropy (mean over the
// batch) and tf.train.adam, whose update is PyTorch's.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { ADAM, CLASSES, HIDDEN, INPUTS, type Batch, type Measurement, type Problem } from './problem.js';

/** The logits of a batch, and the variables they train. */
type Network = { variables: tf.Variable[]; logits: (x: tf.Tensor2D) => tf.Tensor };

function mlp(p: Problem): Network {
  const w1 = tf.variable(tf.tensor2d(p.init.w1, [INPUTS, HIDDEN]));
  const b1 = tf.variable(tf.tensor1d(p.init.b1));
  const w2 = tf.variable(tf.tensor2d(p.init.w2, [HIDDEN, CLASSES]));
  const b2 = tf.variable(tf.tensor1d(p.init.b2));
  return {
    variables: [w1, b1, w2, b2],
    logits: (x) => tf.fused.matMul({ a: tf.fused.matMul({ a: x, b: w1, bias: b1, activation: 'relu' }), b: w2, bias: b2 }),
  };
}

/** The engine's conv weight [(c·k + i)·k + j][o] as TensorFlow's filter [k, k, c, o]. */
function filter(weight: Float32Array, channels: number, k: number, out: number): tf.Tensor4D {
  const f = new Float32Array(weight.length);
  for (let c = 0; c < channels; c++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let o = 0; o < out; o++) {
    f[((i * k + j) * channels + c) * out + o] = weight[((c * k + i) * k + j) * out + o];
  }
  return tf.tensor4d(f, [k, k, channels, out]);
}

/** PEER_MODELS.cnn, NHWC: conv 5×5 (8) → ReLU → pool 2 → conv 5×5 (16) → ReLU → pool 2 → flatten (c, h, w) → dense 10. */
function cnn(p: Problem): Network {
  const t = (name: string) => p.tensors.get(name)!;
  const k1 = tf.variable(filter(t('0.weight'), 1, 5, 8));
  const c1 = tf.variable(tf.tensor1d(t('0.bias')));
  const k2 = tf.variable(filter(t('3.weight'), 8, 5, 16));
  const c2 = tf.variable(tf.tensor1d(t('3.bias')));
  const w = tf.variable(tf.tensor2d(t('7.weight'), [256, CLASSES]));
  const b = tf.variable(tf.tensor1d(t('7.bias')));
  return {
    variables: [k1, c1, k2, c2, w, b],
    logits: (x) => {
      const image = x.reshape([x.shape[0], 28, 28, 1]) as tf.Tensor4D;
      const h1 = tf.maxPool(tf.fused.conv2d({ x: image, filter: k1, strides: 1, pad: 'valid', bias: c1, activation: 'relu' }), 2, 2, 'valid');
      const h2 = tf.maxPool(tf.fused.conv2d({ x: h1, filter: k2, strides: 1, pad: 'valid', bias: c2, activation: 'relu' }), 2, 2, 'valid');
      const flat = tf.transpose(h2, [0, 3, 1, 2]).reshape([x.shape[0], 256]) as tf.Tensor2D;
      return tf.fused.matMul({ a: flat, b: w, bias: b });
    },
  };
}

export async function train(p: Problem): Promise<Measurement> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its webgpu backend');
  await tf.ready();
  const B = p.config.batchSize;
  const network = (p.config.model ?? 'mlp') === 'cnn' ? cnn(p) : mlp(p);
  const [b2] = network.variables.slice(-1);
  const optimizer = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  let lossSum = tf.scalar(0);

  // One step: upload the batch, forward, backward, Adam; the loss is added to a sum kept on the GPU.
  const step = (batch: Batch): tf.Scalar =>
    tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [B, INPUTS]);
      const y = tf.tensor2d(batch.y, [B, CLASSES]);
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, network.logits(x)), true, network.variables)!;
      return loss;
    });
  const accumulate = (loss: tf.Scalar) => {
    const next = tf.add(lossSum, loss) as tf.Scalar;
    lossSum.dispose();
    loss.dispose();
    lossSum = next;
  };

  try {
    const first = step(p.warmupBatches[0]);
    const firstLoss = (await first.data())[0];
    first.dispose();
    for (const batch of p.warmupBatches.slice(1)) step(batch).dispose();
    await b2.data(); // the warm-up's queued work ends before the clock starts
    const tensors = tf.memory().numTensors;

    const started = performance.now();
    for (const batch of p.timedBatches) accumulate(step(batch));
    const sum = (await lossSum.data())[0];
    await b2.data(); // the last update is queued after the last loss: wait for it too
    const seconds = (performance.now() - started) / 1000;
    if (tf.memory().numTensors !== tensors) throw new Error(`tensors leaked: ${tensors} before the timed steps, ${tf.memory().numTensors} after`);
    return { seconds, firstLoss, loss: sum / p.timedBatches.length, detail: `tf.getBackend() = ${tf.getBackend()}` };
  } finally {
    lossSum.dispose();
    optimizer.dispose();
    tf.dispose(network.variables);
  }
}
