// TensorFlow.js on its WebGPU backend, written the idiomatic way: variables, fused matMul+bias(+ReLU),
// tf.losses.softmaxCrossEntropy (mean over the batch) and tf.train.adam, whose update is PyTorch's.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { ADAM, CLASSES, HIDDEN, INPUTS, type Batch, type Measurement, type Problem } from './problem.js';

export async function train(p: Problem): Promise<Measurement> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its webgpu backend');
  await tf.ready();
  const B = p.config.batchSize;
  const w1 = tf.variable(tf.tensor2d(p.init.w1, [INPUTS, HIDDEN]));
  const b1 = tf.variable(tf.tensor1d(p.init.b1));
  const w2 = tf.variable(tf.tensor2d(p.init.w2, [HIDDEN, CLASSES]));
  const b2 = tf.variable(tf.tensor1d(p.init.b2));
  const optimizer = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  let lossSum = tf.scalar(0);

  // One step: upload the batch, forward, backward, Adam; the loss is added to a sum kept on the GPU.
  const step = (batch: Batch): tf.Scalar =>
    tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [B, INPUTS]);
      const y = tf.tensor2d(batch.y, [B, CLASSES]);
      const loss = optimizer.minimize(() => {
        const h = tf.fused.matMul({ a: x, b: w1, bias: b1, activation: 'relu' });
        return tf.losses.softmaxCrossEntropy(y, tf.fused.matMul({ a: h, b: w2, bias: b2 }));
      }, true, [w1, b1, w2, b2])!;
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
    tf.dispose([w1, b1, w2, b2]);
  }
}
