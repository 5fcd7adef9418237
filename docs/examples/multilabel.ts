// Multi-label with the 'bce' loss: each MNIST digit gets three yes/no labels at once — is it even, is it greater
// than 4, does it have a closed loop (0, 4, 6, 8, 9) — and one model learns all three, a sigmoid per label.
// Scored by per-label accuracy on the test images (a label counts as yes where its probability is ≥ 0.5).
// Run: npx tsx docs/examples/multilabel.ts   (EXAMPLE_BUDGET=small: fewer images and epochs, for a quick check)
import { Model, loadMnist, openNodeDevice, parseLayers, sliceDataset, MNIST_MEAN, MNIST_STD, type Dataset } from 'webgpu-mlp/node';

const small = process.env.EXAMPLE_BUDGET === 'small';
const QUESTIONS = ['even', 'greater than 4', 'closed loop'];
const answers = (digit: number) => [digit % 2 === 0, digit > 4, [0, 4, 6, 8, 9].includes(digit)].map(Number);

/** The first `count` images of `d`, their class labels replaced by three 0/1 targets per image. */
function withQuestions(d: Dataset, count: number, name: string): Dataset {
  const images = sliceDataset(d, 0, count, name);
  const values = new Float32Array(count * QUESTIONS.length);
  for (let i = 0; i < count; i++) values.set(answers(d.labels[i]), i * QUESTIONS.length);
  return { ...images, labels: new Uint8Array(0), targets: { values, width: QUESTIONS.length } };
}

const mnist = loadMnist();
const train = withQuestions(mnist.train, small ? 6_000 : 30_000, 'train');
const test = withQuestions(mnist.test, small ? 2_000 : 10_000, 'test');

const gpu = await openNodeDevice();
const model = new Model(gpu.device, {
  layers: parseLayers(`linear:256,relu,linear:${QUESTIONS.length}`), loss: 'bce', pixelMean: MNIST_MEAN, pixelStd: MNIST_STD, seed: 3,
});
await model.fit(train, {
  epochs: small ? 3 : 4, batchSize: 64, optimizer: { kind: 'adam', lr: 2e-3 },
  onEpoch: (e) => console.log(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, per-label accuracy ${e.trainLabelAccuracy!.toFixed(4)}`),
});

// Per question, on the test images: predictClasses gives 0/1 per label (threshold 0.5).
const labels = await model.predictClasses(test.images);
QUESTIONS.forEach((question, q) => {
  let right = 0;
  for (let i = 0; i < test.count; i++) right += labels[i * QUESTIONS.length + q] === test.targets!.values[i * QUESTIONS.length + q] ? 1 : 0;
  console.log(`${question}: ${(right / test.count).toFixed(4)}`);
});
const result = await model.evaluate(test);
model.dispose();
gpu.destroy();
console.log(`test per-label accuracy: ${result.labelAccuracy!.toFixed(4)}`);
