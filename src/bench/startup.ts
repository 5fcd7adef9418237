// How long a first step takes: from opening the device to the end of the first training step and to the first
// prediction after it, split into data, model, pipeline creation and the rest (the first submissions). Big
// products start on quick twins (Ops.matmul); their full kernels compile in the background, counted apart. The
// device's pipeline cache must be fresh (nothing compiled on it yet) for the pipeline figures to mean anything.
import { sliceDataset, type Dataset } from '../data/dataset.js';
import { pipelineCacheFor } from '../gpu/dispatch.js';
import { Model, type ModelOptions } from '../engine/model.js';

export interface StartupPhase {
  ms: number;
  /** Pipelines compiled in the phase, and the time that took (part of ms). */
  pipelines: number;
  compileMs: number;
}

export interface Startup {
  model: StartupPhase;
  firstStep: StartupPhase;
  firstPredict: StartupPhase & { images: number };
  /** After that predict: waiting for the full kernels still compiling behind their quick twins, and how many there were. */
  fullKernels: { ms: number; pipelines: number };
}

/** Times a model's construction, its first training step (batch `batchSize`) and then `images` predictions. */
export async function measureStartup(device: GPUDevice, options: ModelOptions, train: Dataset, test: Dataset, batchSize = 128, images = 1000): Promise<Startup> {
  const cache = pipelineCacheFor(device);
  const phase = async (body: () => Promise<unknown>): Promise<StartupPhase> => {
    const [count, ms] = [cache.compiled.count, cache.compiled.ms];
    const started = performance.now();
    await body();
    return { ms: performance.now() - started, pipelines: cache.compiled.count - count, compileMs: cache.compiled.ms - ms };
  };
  let model!: Model;
  const made = await phase(async () => {
    model = new Model(device, options);
  });
  const firstStep = await phase(() => model.fit(sliceDataset(train, 0, batchSize), { epochs: 1, batchSize, optimizer: { kind: 'adam', lr: 1e-3 }, progressEvery: 0 }));
  const n = Math.min(images, test.count);
  const firstPredict = await phase(() => model.predict(test.images.subarray(0, n * test.features), { count: n }));
  const waited = performance.now();
  await model.kernelsReady();
  const fullKernels = { ms: performance.now() - waited, pipelines: cache.compiled.background };
  model.dispose();
  return { model: made, firstStep, firstPredict: { ...firstPredict, images: n }, fullKernels };
}
