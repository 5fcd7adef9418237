// safetensors checkpoints: round trips, PyTorch names and layouts, errors that leave the model untouched,
// and resume that ends exactly where an uninterrupted run ends.
import { DEFAULT_VARIANTS, GPU_VARIANTS } from '../src/gpu/variants.js';
import { describe, expect, it } from 'vitest';
import { sliceDataset } from '../src/data/dataset.js';
import { decodeSafetensors, encodeSafetensors } from '../src/data/safetensors.js';
import { loadCheckpoint, saveCheckpoint } from '../src/engine/checkpoint.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { ENGINE_VERSION } from '../src/version.js';
import packageJson from '../package.json' with { type: 'json' };
import { openTestDevice } from './helpers/gpu.js';
import { mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();
const mnist = loadMnist();
const train = sliceDataset(mnist.train, 0, 300, 'train');
const held = sliceDataset(mnist.test, 0, 500, 'test');
const adam = { kind: 'adam' as const, lr: 1e-3 };

describe('safetensors', () => {
  it('round-trips tensors and metadata, with the data 8-byte aligned', () => {
    const bytes = encodeSafetensors([['a', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) }], ['b', { shape: [1], data: Float32Array.from([-1]) }]], { k: 'v' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const file = decodeSafetensors(bytes, 'x.safetensors');
    expect(file.metadata).toEqual({ k: 'v' });
    expect(file.tensors.get('a')!.shape).toEqual([2, 3]);
    expect(Array.from(file.tensors.get('a')!.data)).toEqual([1, 2, 3, 4, 5, 6.5]);
  });

  it('reads F64, F16 and BF16 tensors as float32', () => {
    const header = new TextEncoder().encode(JSON.stringify({
      d: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
      h: { dtype: 'F16', shape: [2], data_offsets: [16, 20] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [20, 24] },
    }));
    const bytes = new Uint8Array(8 + header.length + 24);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    const at = 8 + header.length;
    view.setFloat64(at, 1.5, true); view.setFloat64(at + 8, -2.25, true);
    view.setUint16(at + 16, 0x3c00, true); view.setUint16(at + 18, 0xc100, true); // 1, -2.5 in f16
    view.setUint16(at + 20, 0x3fc0, true); view.setUint16(at + 22, 0xc040, true); // 1.5, -3 in bf16
    const file = decodeSafetensors(bytes, 'mixed.safetensors');
    expect(Array.from(file.tensors.get('d')!.data)).toEqual([1.5, -2.25]);
    expect(Array.from(file.tensors.get('h')!.data)).toEqual([1, -2.5]);
    expect(Array.from(file.tensors.get('b')!.data)).toEqual([1.5, -3]);
  });

  it('names the file and the problem for bad files', () => {
    const good = encodeSafetensors([['w', { shape: [4], data: new Float32Array(4) }]]);
    expect(() => decodeSafetensors(good.subarray(0, 5), 'f.st')).toThrow(/f\.st: 5 bytes is too short/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4), 'f.st')).toThrow(/f\.st: tensor w ends at byte 16 of the data, but the file holds only 12 \(truncated\?\)/);
    const huge = Uint8Array.from(good);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    expect(() => decodeSafetensors(huge, 'f.st')).toThrow(/f\.st: header length 1000 is larger than the file/);
    const int8 = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'I8', shape: [1], data_offsets: [0, 1] } }));
    const bad = new Uint8Array(8 + int8.length + 1);
    new DataView(bad.buffer).setBigUint64(0, BigInt(int8.length), true);
    bad.set(int8, 8);
    expect(() => decodeSafetensors(bad, 'f.st')).toThrow(/f\.st: tensor w has dtype I8; supported: F32, F64, F16, BF16/);
  });
});

describe('model checkpoints', () => {
  it('use the PyTorch nn.Sequential names and [out, in] weights, and record the run', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 20, 10]), seed: 2 });
    await model.fit(train, { epochs: 1, batchSize: 64, optimizer: adam });
    const file = decodeSafetensors(await saveCheckpoint(model), 'm');
    expect([...file.tensors.keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(file.tensors.get('0.weight')!.shape).toEqual([20, 784]);
    expect(file.metadata).toMatchObject({ sizes: '[784,20,10]', epoch: '1', step: '5', batch_size: '64', engine_version: ENGINE_VERSION });
    expect(ENGINE_VERSION).toBe(packageJson.version);
    // W[in × out] in the engine; element (in=3, out=7) is PyTorch's weight[7][3].
    const flat = await model.getParams();
    expect(file.tensors.get('0.weight')!.data[7 * 784 + 3]).toBe(flat[3 * 20 + 7]);
    model.dispose();
  });

  it('save → load → evaluate gives the same loss and accuracy', async () => {
    const a = new Model(gpu.device, { ...mlpOptions([784, 20, 10]), seed: 3, pixelMean: 0.1307, pixelStd: 0.3081 });
    await a.fit(train, { epochs: 1, batchSize: 64, optimizer: adam });
    const bytes = await saveCheckpoint(a);
    const b = new Model(gpu.device, { ...mlpOptions([784, 20, 10]), seed: 99, pixelMean: 0.1307, pixelStd: 0.3081 });
    loadCheckpoint(b, bytes, 'a.safetensors');
    expect(await b.evaluate(held)).toEqual(await a.evaluate(held));
    a.dispose();
    b.dispose();
  });

  it('refuses wrong shapes and missing tensors by name, and leaves the model untouched', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 20, 10]), seed: 4 });
    const before = await model.getParams();
    const other = new Model(gpu.device, { ...mlpOptions([784, 16, 10]), seed: 4 });
    const wrong = await saveCheckpoint(other);
    expect(() => loadCheckpoint(model, wrong, 'other.safetensors')).toThrow(/other\.safetensors: holds the model 784 → linear:16,relu,linear:10, this one is 784 → linear:20,relu,linear:10/);
    const file = decodeSafetensors(await saveCheckpoint(model), 'm');
    const noMeta = [...file.tensors.entries()].filter(([n]) => n !== '2.bias');
    expect(() => loadCheckpoint(model, encodeSafetensors(noMeta, { sizes: '[784,20,10]' }), 'cut.safetensors')).toThrow(/cut\.safetensors: missing tensor 2\.bias \(expected shape \[10\]\)/);
    const reshaped = [...file.tensors.entries()].map(([n, t]): [string, typeof t] => (n === '0.bias' ? [n, { shape: [4, 5], data: t.data }] : [n, t]));
    expect(() => loadCheckpoint(model, encodeSafetensors(reshaped, { sizes: '[784,20,10]' }), 'r.safetensors')).toThrow(/r\.safetensors: tensor 0\.bias has shape \[4, 5\], the model needs \[20\]/);
    expect(await model.getParams()).toEqual(before);
    model.dispose();
    other.dispose();
  });

  it('one call each: model.toSafetensors() and Model.fromSafetensors() give back the same model', async () => {
    const model = new Model(gpu.device, { layers: [{ kind: 'linear', outputs: 20 }, { kind: 'relu' }, { kind: 'dropout', p: 0.1 }, { kind: 'linear', outputs: 10 }], seed: 8, pixelMean: 0.1307, pixelStd: 0.3081 });
    await model.fit(train, { epochs: 1, batchSize: 64, optimizer: adam });
    const copy = Model.fromSafetensors(gpu.device, await model.toSafetensors({ full: true }), 'copy.safetensors');
    expect(copy.architecture.text).toBe('linear:20,relu,dropout:0.1,linear:10');
    expect(await copy.getParams()).toEqual(await model.getParams());
    expect(modelInternals(copy).optimizer!.step).toBe(modelInternals(model).optimizer!.step);
    expect(await copy.evaluate(held)).toEqual(await model.evaluate(held));
    expect(() => Model.fromSafetensors(gpu.device, new Uint8Array(3), 'tiny.safetensors')).toThrow(/^tiny\.safetensors: 3 bytes is too short/);
    model.dispose();
    copy.dispose();
  });

  it('loading weights only drops the old optimizer state, so the next fit starts it fresh', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 20, 10]), seed: 6 });
    await model.fit(train, { epochs: 1, batchSize: 64, optimizer: adam });
    expect(modelInternals(model).optimizer!.step).toBe(5);
    loadCheckpoint(model, await saveCheckpoint(model), 'weights.safetensors');
    expect(modelInternals(model).optimizer).toBeUndefined();
    await model.fit(train, { epochs: 1, batchSize: 64, optimizer: adam });
    expect(modelInternals(model).optimizer!.step).toBe(5);
    model.dispose();
  });

  // The GPU defaults too: K split across workgroups, workgroup tiles, batches gathered on the GPU, four steps per
  // submission — every sum in a fixed order, so a resumed run repeats the same arithmetic.
  // (On the software adapter the GPU kernels are slow: that case trains on fewer, smaller batches.)
  it.each([
    ['adam', 'software defaults', DEFAULT_VARIANTS, 64], ['sgd', 'software defaults', DEFAULT_VARIANTS, 64], ['adam', 'GPU defaults', GPU_VARIANTS, 24],
  ] as const)('%s, %s: resume from a full checkpoint ends bit for bit where the uninterrupted run ends', async (kind, _, variants, batchSize) => {
    const optimizer = kind === 'adam' ? adam : { kind, lr: 0.05, momentum: 0.9 };
    const options = { ...mlpOptions([784, 20, 10]), seed: 5, variants };
    const fit = { batchSize, optimizer, progressEvery: 2 };
    const data = batchSize === 64 ? train : sliceDataset(train, 0, 120, 'train');
    const straight = new Model(gpu.device, options);
    await straight.fit(data, { ...fit, epochs: 3 });

    const first = new Model(gpu.device, options);
    await first.fit(data, { ...fit, epochs: 1 });
    const checkpoint = await saveCheckpoint(first, { full: true });
    first.dispose();
    const resumed = new Model(gpu.device, { ...options, seed: 1234 }); // a different seed: the checkpoint's RNG state wins
    loadCheckpoint(resumed, checkpoint, 'ckpt.safetensors');
    expect(resumed.epochs).toBe(1);
    await resumed.fit(data, { ...fit, epochs: 2 });
    expect(await resumed.getParams()).toEqual(await straight.getParams());
    expect(resumed.step).toBe(straight.step);
    straight.dispose();
    resumed.dispose();
  });

  it('a full checkpoint records the kernels that trained it; a resume on others says so in one line', async () => {
    const options = { ...mlpOptions([784, 20, 10]), seed: 5, variants: DEFAULT_VARIANTS };
    const fit = { batchSize: 64, optimizer: adam, epochs: 1 };
    const first = new Model(gpu.device, options);
    await first.fit(train, fit);
    const checkpoint = await saveCheckpoint(first, { full: true });
    const plan = modelInternals(first).plan('train', 64);
    const stepMatmuls = [...plan.forward, ...plan.backward].map((d) => d.label).filter((l) => l.startsWith('matmul'));
    first.dispose();
    const meta = decodeSafetensors(checkpoint, 'ckpt').metadata;
    expect(meta.kernels).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.parse(meta.matmul_variants)).toEqual(stepMatmuls);
    expect(stepMatmuls).toHaveLength(5);
    const notes = async (variants: typeof DEFAULT_VARIANTS) => {
      const lines: string[] = [];
      const resumed = new Model(gpu.device, { ...options, variants });
      loadCheckpoint(resumed, checkpoint, 'ckpt.safetensors');
      await resumed.fit(train, { ...fit, epochs: 1, onNote: (l) => lines.push(l) });
      await resumed.fit(train, { ...fit, epochs: 1, onNote: (l) => lines.push(l) }); // only the first fit after a resume compares
      resumed.dispose();
      return lines;
    };
    expect(await notes(DEFAULT_VARIANTS)).toEqual([]);
    const other = await notes(GPU_VARIANTS);
    expect(other).toHaveLength(1);
    expect(other[0]).toMatch(/^resume: the checkpoint was trained with other kernels \([0-9a-f]{16}, now [0-9a-f]{16}; matmulNN 64×20×784 .*\): the run goes on, but not bit for bit with one that never stopped$/);
  });
});
