// Fine-tuning: frozen layers (trainable: false) keep their weights bit for bit through training while the
// layers around them train on the gradients the float64 reference gives; loadWeights takes tensors by name and
// shape with PyTorch's load_state_dict report; summary() lists layers and totals; checkpoints keep the frozen
// layers; the fine-tuning example runs on a small budget.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Model, modelInternals } from '../src/engine/model.js';
import { architecture, freezeLayers } from '../src/layers/architecture.js';
import { parseLayers, type LayerSpec } from '../src/layers/index.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { decodeSafetensors, encodeSafetensors } from '../src/data/safetensors.js';
import { decodeModelState } from '../src/engine/checkpoint.js';
import { BadInputError } from '../src/errors.js';
import { liveBuffers } from '../src/gpu/buffers.js';
import { openTestDevice, withErrorScope } from './helpers/gpu.js';
import { expectGradientsClose, syntheticData } from './helpers/model.js';

const gpu = await openTestDevice();

/** A tensor's bytes, by name, from the flat layout. */
function tensorBytes(model: Model, flat: Float32Array, name: string): Uint8Array {
  const slot = modelInternals(model).parameters.layout.tensors.find((t) => t.name === name)!;
  return new Uint8Array(flat.buffer, flat.byteOffset + slot.offset * 4, slot.length * 4).slice();
}

const tensorNames = (model: Model) => modelInternals(model).parameters.layout.tensors.map((t) => t.name);

// A trainable layer before the frozen ones and after them; the frozen block holds a batch norm and a linear.
const MLP = 'linear:12,relu,batchnorm,linear:10,relu,linear:5';
const MLP_FROZEN = [2, 3];
// A frozen stem: backward stops at the first trainable convolution.
const CNN = 'conv2d:3:k=3,relu,conv2d:4:k=3,relu,maxpool2d:2,flatten,linear:5';
const CNN_FROZEN = [0];

// Every training plan here has 16 rows, so that the tests share their kernels (compiled once per device).
const ROWS = 16;
const cases = [
  // Weight-gradient products of layers 0 and 5 only; batch norm's one backward kernel stays (it makes the input gradient).
  { name: 'a frozen batch norm and linear between trainable layers', layers: MLP, frozen: MLP_FROZEN, inputs: [29], products: 2 },
  // Those of layers 2 and 6 only.
  { name: 'a frozen first convolution', layers: CNN, frozen: CNN_FROZEN, inputs: [1, 9, 9], products: 2 },
];

describe('frozen layers', () => {
  it.each(cases)('$name: no gradient kept for them; the others match the float64 reference', async ({ layers, frozen, inputs, products }) => {
    await withErrorScope(gpu.device, async () => {
      const specs = freezeLayers(parseLayers(layers), frozen);
      const arch = architecture(specs, inputs);
      const data = syntheticData(ROWS, arch.inputs, arch.classes, 4);
      const model = new Model(gpu.device, { layers: specs, inputs, seed: 3 });
      const { layout } = modelInternals(model).parameters;
      const got = await model.gradients(data);
      const want = mlpForwardBackward(await model.getParams(), layout, arch, data.images, data.labels, data.count);
      const frozenNames = arch.layers.filter((l) => !l.trainable).flatMap((l) => l.parameters.map((p) => p.name));
      expect(frozenNames.length).toBeGreaterThan(0);
      for (const t of layout.tensors.filter((t) => frozenNames.includes(t.name))) {
        expect(Array.from(got.subarray(t.offset, t.offset + t.length)).every((g) => g === 0), `${t.name}: GPU gradient`).toBe(true);
        expect(Array.from(want.grads.subarray(t.offset, t.offset + t.length)).every((g) => g === 0), `${t.name}: reference gradient`).toBe(true);
      }
      const trainable = layout.tensors.filter((t) => !frozenNames.includes(t.name));
      expectGradientsClose(got, want.grads, trainable);
      // The first trainable layer's gradients are not zero: the input gradient flowed through the frozen ones.
      expect(Array.from(got.subarray(trainable[0].offset, trainable[0].offset + trainable[0].length)).some((g) => g !== 0)).toBe(true);
      // The frozen layers' weight-gradient products are not in the step.
      expect(modelInternals(model).plan('train', ROWS).backward.filter((d) => d.label.startsWith('matmulTN')).length).toBe(products);
      model.dispose();
    });
  });

  it('a frozen stem runs no backward: no input gradient is made for the layers before the first trainable one', async () => {
    const model = new Model(gpu.device, { layers: freezeLayers(parseLayers(CNN), CNN_FROZEN), inputs: [1, 9, 9] });
    const labels = modelInternals(model).plan('train', ROWS).backward.map((d) => d.label);
    expect(labels.filter((l) => l.startsWith('conv2dInputGrad'))).toEqual([]);
    model.dispose();
  });

  it.each([
    ['adamw', { kind: 'adamw', lr: 0.01, weightDecay: 0.1 }],
    ['sgd with momentum', { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.01 }],
  ] as const)('%s, max-norm: frozen tensors are bit-identical after training; their optimizer state is never touched', async (_, optimizer) => {
    await withErrorScope(gpu.device, async () => {
      const specs = freezeLayers(parseLayers(MLP), MLP_FROZEN);
      const data = syntheticData(64, 29, 5, 7);
      const model = new Model(gpu.device, { layers: specs, inputs: [29], seed: 2 });
      const before = await model.getParams();
      await model.fit(data, { epochs: 2, batchSize: ROWS, optimizer, maxNorm: 0.5 });
      const after = await model.getParams();
      const internals = modelInternals(model);
      for (const name of tensorNames(model)) {
        const same = Buffer.from(tensorBytes(model, before, name)).equals(Buffer.from(tensorBytes(model, after, name)));
        expect(same, `${name} unchanged`).toBe(MLP_FROZEN.includes(Number(name.split('.')[0])));
      }
      for (const buffer of internals.optimizer!.state) {
        const state = await internals.parameters.download(buffer);
        for (const name of ['2.weight', '2.bias', '3.weight', '3.bias']) expect(tensorBytes(model, state, name).every((b) => b === 0), `${name} optimizer state`).toBe(true);
      }
      model.dispose();
    });
  });

  it('refusals: trainable: false without parameters, not a boolean, an index out of range, everything frozen', async () => {
    const specs = parseLayers(MLP);
    expect(() => architecture(freezeLayers(specs, [1]), [29])).toThrow(/layer 1 \(relu\): trainable: false is for layers with parameters; relu has none/);
    expect(() => architecture([{ ...specs[0], trainable: 'no' as unknown as boolean }, ...specs.slice(1)], [29])).toThrow(/layer 0 \(linear:12\): trainable must be true or false, got "no"/);
    expect(() => freezeLayers(specs, [6])).toThrow(/layer 6 to freeze is not a layer index of this model \(0\.\.5\)/);
    expect(() => freezeLayers(specs, [-1])).toThrow(BadInputError);
    const live = liveBuffers(gpu.device).count;
    const model = new Model(gpu.device, { layers: freezeLayers(specs, [0, 2, 3, 5]), inputs: [29] });
    const made = liveBuffers(gpu.device).count;
    await expect(model.fit(syntheticData(8, 29, 5, 1), { epochs: 1, batchSize: ROWS, optimizer: { kind: 'adam', lr: 1e-3 } }))
      .rejects.toThrow(/every layer with parameters of 29 → linear:12,relu,batchnorm,linear:10,relu,linear:5 is frozen \(trainable: false\): nothing to train/);
    expect(liveBuffers(gpu.device).count, "the refused fit made no buffer").toBe(made);
    model.dispose();
    expect(liveBuffers(gpu.device).count).toBe(live);
  });

  it('checkpoints record the frozen layers; a full checkpoint resumes bit for bit; old files are all trainable', async () => {
    const specs = freezeLayers(parseLayers(MLP), MLP_FROZEN);
    const data = syntheticData(48, 29, 5, 9);
    const fit = { batchSize: ROWS, optimizer: { kind: 'adam', lr: 0.01 } } as const;
    const straight = new Model(gpu.device, { layers: specs, inputs: [29], seed: 6 });
    await straight.fit(data, { ...fit, epochs: 2 });
    const first = new Model(gpu.device, { layers: specs, inputs: [29], seed: 6 });
    await first.fit(data, { ...fit, epochs: 1 });
    const bytes = await first.toSafetensors({ full: true });
    expect(decodeSafetensors(bytes, 'f.safetensors').metadata.frozen).toBe('2,3');
    const resumed = Model.fromSafetensors(gpu.device, bytes, 'f.safetensors');
    expect(resumed.architecture.layers.map((l) => l.trainable)).toEqual([true, true, false, false, true, true]);
    await resumed.fit(data, { ...fit, epochs: 1 });
    expect(await resumed.getParams()).toEqual(await straight.getParams());
    // A file without the key (as every file written before it): every layer trainable.
    const file = decodeSafetensors(bytes, 'old.safetensors');
    delete file.metadata.frozen;
    const old = decodeModelState(decodeSafetensors(encodeSafetensors([...file.tensors], file.metadata), 'old.safetensors'), 'old.safetensors');
    expect(old.layers.some((l) => l.trainable === false)).toBe(false);
    // A key naming a layer that is not there is refused, naming the file.
    const bad = decodeSafetensors(bytes, 'bad.safetensors');
    expect(() => decodeModelState(decodeSafetensors(encodeSafetensors([...bad.tensors], { ...bad.metadata, frozen: '2,x' }), 'bad.safetensors'), 'bad.safetensors'))
      .toThrow(/bad\.safetensors: metadata frozen '2,x' is not valid/);
    for (const m of [straight, first, resumed]) m.dispose();
  });
});

describe('loadWeights by name and shape', () => {
  const base: LayerSpec[] = parseLayers('conv2d:3:k=3,relu,batchnorm,maxpool2d:2,flatten,linear:4');
  const head: LayerSpec[] = [...freezeLayers(base.slice(0, 5), [0, 2]), ...parseLayers('linear:6,relu,linear:3')];
  const inputs = [1, 9, 9];

  it('strict: false loads what fits, reports the rest, and leaves the rest as initialized; batch norm keeps its running estimates', async () => {
    const source = new Model(gpu.device, { layers: base, inputs, seed: 1 });
    // Running estimates of their own (as training leaves them), so that taking them shows.
    const trained = await source.exportState();
    for (const name of ['2.running_mean', '2.running_var']) trained.tensors.set(name, { shape: [3], data: Float32Array.of(0.25, 0.5, 0.75) });
    source.importState(trained);
    const target = new Model(gpu.device, { layers: head, inputs, seed: 8 });
    // An optimizer with steps taken, which loading starts afresh.
    modelInternals(target).useOptimizer({ kind: 'adam', lr: 0.01 }).step = 3;
    expect(target.step).toBe(3);
    const initial = await target.getParams();
    const report = await target.loadWeights(source, { strict: false });
    expect(report).toEqual({
      loaded: ['0.weight', '0.bias', '2.weight', '2.bias', '2.running_mean', '2.running_var'],
      skipped: [{ name: '5.weight', reason: 'shape [4, 27] in source, [6, 27] here' }, { name: '5.bias', reason: 'shape [4] in source, [6] here' }],
      missing: ['7.weight', '7.bias'],
    });
    expect(target.step, 'the optimizer starts fresh').toBe(0);
    const [got, want] = [await target.getParams(), await source.getParams()];
    for (const name of ['0.weight', '0.bias', '2.weight', '2.bias']) expect(tensorBytes(target, got, name)).toEqual(tensorBytes(source, want, name));
    for (const name of ['5.weight', '5.bias', '7.weight', '7.bias']) expect(tensorBytes(target, got, name)).toEqual(tensorBytes(target, initial, name));
    const [keptHere, keptThere] = [await modelInternals(target).parameters.downloadState(), await modelInternals(source).parameters.downloadState()];
    expect(Array.from(keptHere)).toEqual(Array.from(keptThere));
    // The same from the source's bytes (a checkpoint), and from its state.
    expect(await target.loadWeights(await source.toSafetensors({ full: true }), { strict: false })).toMatchObject({ loaded: report.loaded, missing: report.missing });
    expect(await target.loadWeights(await source.exportState(), { strict: false })).toEqual(report);
    for (const m of [source, target]) m.dispose();
  });

  it('strict (the default): a missing, extra or other-shaped tensor is refused by name with both shapes, and nothing is written', async () => {
    const source = new Model(gpu.device, { layers: base, inputs, seed: 1 });
    const target = new Model(gpu.device, { layers: head, inputs, seed: 8 });
    const before = await target.getParams();
    await expect(target.loadWeights(source)).rejects.toThrow(/loadWeights: tensor 5\.weight has shape \[4, 27\] in source, \[6, 27\] here/);
    const same = new Model(gpu.device, { layers: base.slice(0, 5).concat(parseLayers('linear:4')), inputs, seed: 4 });
    expect(await same.loadWeights(source)).toEqual({ loaded: tensorNames(same).concat('2.running_mean', '2.running_var'), skipped: [], missing: [] });
    const state = await source.exportState();
    const fewer = { tensors: new Map([...state.tensors].filter(([n]) => n !== '5.bias')) };
    await expect(same.loadWeights(fewer, { source: 'base.safetensors' })).rejects.toThrow(/loadWeights: base\.safetensors has no tensor 5\.bias \(shape \[4\] here\)/);
    const more = { tensors: new Map([...state.tensors, ['9.weight', { shape: [2], data: new Float32Array(2) }]]) };
    await expect(same.loadWeights(more)).rejects.toThrow(/loadWeights: source's tensor 9\.weight has no place in 1×9×9 → /);
    const nan = { tensors: new Map([...state.tensors, ['0.bias', { shape: [3], data: Float32Array.of(0, NaN, 0) }]]) };
    await expect(target.loadWeights(nan, { strict: false })).rejects.toThrow(/tensor 0\.bias holds a non-finite value/);
    const negative = { tensors: new Map([...state.tensors, ['2.running_var', { shape: [3], data: Float32Array.of(1, -0.5, 1) }]]) };
    await expect(target.loadWeights(negative, { strict: false })).rejects.toThrow(/loadWeights: source: 2\.running_var holds a negative variance/);
    expect(await target.getParams()).toEqual(before);
    await expect(target.loadWeights({} as never)).rejects.toThrow(BadInputError);
    for (const m of [source, target, same]) m.dispose();
  });
});

describe('summary', () => {
  it('lists each layer, its output shape, parameters and whether it trains, and the totals', () => {
    const model = new Model(gpu.device, { layers: freezeLayers(parseLayers('conv2d:8:k=5,relu,maxpool2d:2,flatten,linear:10'), [0]) });
    const data = model.summaryData();
    expect(data.layers.map((l) => [l.index, l.layer, l.outputShape.join('×'), l.parameters, l.training])).toEqual([
      [0, 'conv2d:8:k=5', '8×24×24', 208, 'frozen'],
      [1, 'relu', '8×24×24', 0, ''],
      [2, 'maxpool2d:2', '8×12×12', 0, ''],
      [3, 'flatten', '1152', 0, ''],
      [4, 'linear:10', '10', 11530, 'trainable'],
    ]);
    expect(data).toMatchObject({ inputShape: [1, 28, 28], total: 11738, trainable: 11530, frozen: 208 });
    expect(data.total).toBe(model.parameterCount);
    const text = model.summary();
    expect(text).toMatch(/^ *# +layer +output shape +parameters +training$/m);
    expect(text).toMatch(/^ *0 +conv2d:8:k=5 +8×24×24 +208 +frozen$/m);
    expect(text).toMatch(/^ *4 +linear:10 +10 +11,530 +trainable$/m);
    expect(text.split('\n').at(-1)).toBe('parameters: 11,738 (trainable 11,530, frozen 208)');
    model.dispose();
  });
});

describe('the fine-tuning example', () => {
  it('runs on a small budget and prints its two figures', () => {
    const run = spawnSync('npx', ['tsx', 'docs/examples/finetune.ts'], { env: { ...process.env, EXAMPLE_BUDGET: 'small' }, encoding: 'utf8', timeout: 240_000 });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.at(-2)).toBe('frozen weights unchanged: true');
    const accuracy = /^test accuracy: (\d\.\d+)$/.exec(lines.at(-1)!);
    expect(accuracy, lines.at(-1)).not.toBeNull();
    expect(Number(accuracy![1])).toBeGreaterThanOrEqual(0.85);
  }, 300_000);
});
