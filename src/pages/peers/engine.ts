// This engine: Model.fit, as `npm run bench` times it: a warm-up fit, then one timed fit (one epoch over
// steps × batch images, progressEvery 0), which reads the loss back at its end, so the GPU work is counted.
import { openBrowserDevice } from '../../gpu/device.js';
import { Model, modelInternals } from '../../engine/model.js';
import { defaultVariantsFor } from '../../gpu/variants.js';
import { slotOf } from '../../engine/paramLayout.js';
import { ADAM, type Measurement, type Problem } from './problem.js';

export async function train(p: Problem): Promise<Measurement> {
  const gpu = await openBrowserDevice();
  const layers = p.architecture.layers.map((l) => l.spec);
  const model = new Model(gpu.device, { layers, seed: p.config.seed, variants: defaultVariantsFor(gpu.adapterInfo) }); // pixels: plain x/255
  try {
    await checkInitialWeights(model, p.tensors);
    const optimizer = { kind: 'adam' as const, ...ADAM };
    const fit = { epochs: 1, batchSize: p.config.batchSize, optimizer };
    // progressEvery 1 in the warm-up gives the first step's loss, like the peers' warm-up readback.
    let firstLoss = NaN;
    await model.fit(p.warmupSet, { ...fit, progressEvery: 1, onStep: (s) => s.step === 1 && (firstLoss = s.loss!) });
    await model.kernelsReady();
    const started = performance.now();
    const [epoch] = await model.fit(p.timedSet, { ...fit, progressEvery: 0 });
    const seconds = (performance.now() - started) / 1000;
    if (modelInternals(model).random.state.join() !== p.randomStateAfter.join()) throw new Error('the engine shuffled differently from the shared batch order');
    return { seconds, firstLoss, loss: epoch.trainLoss, detail: 'Model.fit, one submit per step' };
  } finally {
    model.dispose();
    gpu.device.destroy();
  }
}

/** The peers start from p.init; make sure the engine's own seeded initialization is the same. */
async function checkInitialWeights(model: Model, init: Map<string, Float32Array>): Promise<void> {
  const flat = await model.getParams();
  const layout = modelInternals(model).parameters.layout;
  for (const [name, values] of init) {
    const slot = slotOf(layout, name);
    const actual = flat.subarray(slot.offset, slot.offset + slot.length);
    if (actual.length !== values.length || actual.some((v, i) => v !== values[i])) throw new Error(`the engine's initial ${name} differs from the shared one`);
  }
}
