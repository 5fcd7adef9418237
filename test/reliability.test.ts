// Faults provoked as a hostile user would: each ends with one line that names the problem, the right exit
// code (2: bad input, 1: a run that failed), and nothing already saved lost or replaced.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, decodeSafetensors } from '../src/data/safetensors.js';
import { sliceDataset } from '../src/data/dataset.js';
import { Model } from '../src/engine/model.js';
import { loadCheckpoint, saveCheckpoint } from '../src/engine/checkpoint.js';
import { DEFAULT_VARIANTS } from '../src/gpu/variants.js';
import { parseLayers } from '../src/layers/index.js';
import { BadInputError, DeviceLimitError, DeviceLostError, DivergedError, GpuError, MisuseError } from '../src/errors.js';
import { liveBuffers } from '../src/gpu/buffers.js';
import { openNodeDevice, type AdapterChoice } from '../src/node/gpu.js';
import { withDeviceRecovery } from '../src/node/recovery.js';
import { openModelFile } from '../src/node/modelFiles.js';
import { loadImagesForPrediction } from '../src/node/images.js';
import { loadMnist, readIdxBytes } from '../src/node/mnistFiles.js';
import { openTestDevice } from './helpers/gpu.js';
import { spawnWithStderrFile } from './helpers/stderr.js';
import { fileTuneStore } from '../src/node/tuneStore.js';
import { mlpOptions } from './helpers/model.js';

const dir = mkdtempSync(join(tmpdir(), 'faults-'));
const tsx = join('node_modules', '.bin', 'tsx');
const run = (script: string, args: string[]) => {
  const r = spawnWithStderrFile(tsx, [`src/cli/${script}.ts`, ...args], { timeout: 300_000 });
  // stderr without the progress lines (a log gets one every 10 %) and Dawn's harmless XDG_RUNTIME_DIR warning.
  const err = r.stderr.split('\n').filter((l) => l.trim() && !/XDG_RUNTIME_DIR/.test(l) && !/^epoch \d+\/\d+ +\d+% /.test(l));
  return { code: r.status, out: r.stdout, err };
};

describe('the CLI refuses bad flags and outputs before the GPU opens', () => {
  const kept = join(dir, 'kept.safetensors');
  writeFileSync(kept, 'an earlier model');
  symlinkSync(kept, join(dir, 'link.safetensors'));
  // A link to the directory: real/x and linked/x are one file.
  mkdirSync(join(dir, 'real'));
  symlinkSync(join(dir, 'real'), join(dir, 'linked'));
  writeFileSync(join(dir, 'real', 'model.safetensors'), 'an earlier model');

  it.each([
    [['--save', join(dir, 'x'), '--json', join(dir, 'x')], /^train: --save and --json are the same file .*x: one would overwrite the other$/],
    [['--save', '/dev/null'], /^train: --save \/dev\/null: exists and is not a regular file; it would be replaced$/],
    [['--save', join(dir, 'real', 'x.safetensors'), '--json', join(dir, 'linked', 'x.safetensors')], /^train: --save and --json are the same file .*real\/x\.safetensors: one would overwrite the other$/],
    [['--checkpoint', join(dir, 'real', 'model.safetensors'), '--save', join(dir, 'linked', 'model.safetensors')], /^train: --save and --checkpoint are the same file|^train: --checkpoint and --save are the same file/],
    [['--save', join(dir, `${'m'.repeat(300)}.safetensors`)], /^train: --save .*: the file name is too long \(312 bytes; at most \d+ here\)$/],
    [['--save', '/proc/sys/model.safetensors'], /^train: --save \/proc\/sys\/model\.safetensors: the directory \/proc\/sys is not writable$/],
    [['--save', join(dir, 'link.safetensors')], /^train: --save .*link\.safetensors: is a symbolic link; give the file it points to$/],
    [['--json', join(dir, 'no', 'such', 'r.json')], /^train: --json .*r\.json: no such directory /],
    [['--resume', kept, '--save', kept], /^train: --resume continues|^train: --save and --resume are the same file/],
    [['--resume', kept, '--lr', '0.1', '--batch-size', '64'], /^train: --resume continues .*kept\.safetensors's recipe; drop --lr, --batch-size$/],
    [['--seed', '4294967296'], /^train: --seed must be at most 4294967295, got '4294967296'$/],
    [['--seed', ''], /^train: --seed must be an integer ≥ 0, got ''$/],
    [['--lr', ''], /^train: --lr: '' is out of range$/],
    [['--lr', '-1'], /^train: .*--lr.* to give an option argument starting with a dash use '--lr=-XYZ'/],
    [['--lr', '1e-50'], /^train: --lr\/--optimizer: optimizer lr 1e-50 is 0 or infinite as an f32/],
    [['--momentum', '0.9'], /^train: --momentum applies to --optimizer sgd only, not adam$/],
  ])('train %j', (args, message) => {
    const r = run('train', args as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
    expect(readFileSync(kept, 'utf8')).toBe('an earlier model');
    expect(readFileSync(join(dir, 'real', 'model.safetensors'), 'utf8')).toBe('an earlier model');
  });

  it('sweep checks --save-best before the first run; a checkpoint whose split is not JSON, or null, is named', async () => {
    const sweep = spawnSync(tsx, ['src/cli/sweep.ts', '--hidden', '8', '--epochs', '1', '--limit', '100', '--out', join(dir, 'sw'), '--save-best', '/proc/sys/best.safetensors'], { encoding: 'utf8', timeout: 300_000 });
    expect(sweep.status).toBe(2);
    expect(sweep.stderr.trim()).toBe('sweep: --save-best /proc/sys/best.safetensors: the directory /proc/sys is not writable');
    expect(sweep.stdout).not.toMatch(/run 1/);
    const m = new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: 1 });
    await m.fit(sliceDataset(train, 0, 40, 'train'), { epochs: 1, batchSize: 20, optimizer: { kind: 'adam', lr: 1e-3 } });
    for (const [split, message] of [['oops', /metadata split is not JSON/], ['null', /metadata split must be an object of non-negative integers .*got null$/], ['{"limit":-4}', /metadata split must be an object/]] as const) {
      const file = join(dir, `split-${split.length}.safetensors`);
      writeFileSync(file, await saveCheckpoint(m, { full: true, metadata: { split } }));
      const r = run('train', ['--resume', file, '--epochs', '3']);
      expect(r.code).toBe(2);
      expect(r.err.at(-1)).toMatch(new RegExp(`^train: .*${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${message.source}`));
    }
    m.dispose();
  });

  it('--adapter system without a GPU driver says so in one line (no Dawn warning before it), exit 1; with one, it trains', () => {
    const r = run('train', ['--adapter', 'system', '--epochs', '1', '--limit', '100', '--hidden', '8']);
    if (r.code === 0) expect(r.out).toMatch(/^test accuracy: /m);
    else {
      expect(r.code).toBe(1);
      expect(r.err).toEqual(['train: the system Vulkan driver gave no WebGPU adapter (try --adapter lavapipe or --adapter swiftshader)']);
    }
  });

  it('a buffer over the device limit stops train with exit code 1, naming the buffer and the limit, and saves nothing', () => {
    const save = join(dir, 'too-big.safetensors');
    // 32,800 rows × 32,768 units × 4 bytes is past 4 GiB, over any device's binding limit (a u32), while the
    // layer's 104 MB of weights fit WebGPU's default 128 MiB binding.
    const r = run('train', ['--hidden', '32768', '--batch-size', '32800', '--limit', '32800', '--epochs', '1', '--save', save]);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^train: buffer 'h0' \(bytes\) needs 4,299,161,600 but the device's max(Buffer|StorageBufferBinding)Size is [\d,]+$/);
    expect(existsSync(save)).toBe(false);
  });

  it('a run that diverges stops with exit code 1 and the epoch and step; the checkpoint is left as it was, nothing is saved', () => {
    const checkpoint = join(dir, 'ckpt.safetensors');
    writeFileSync(checkpoint, 'the last good checkpoint');
    const save = join(dir, 'diverged.safetensors');
    const r = run('train', ['--optimizer', 'sgd', '--lr', '1e30', '--limit', '500', '--epochs', '2', '--hidden', '16', '--progress-every', '1', '--checkpoint', checkpoint, '--save', save]);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^train: training diverged: the loss is (NaN|Infinity) at epoch 1, step [1-4] \(try a lower learning rate\)$/);
    expect(readFileSync(checkpoint, 'utf8')).toBe('the last good checkpoint');
    expect(existsSync(save)).toBe(false);
  });
});

describe('reads are bounded and only of regular files', () => {
  it('the autotune cache: a FIFO or a link to /dev/zero there is refused by name at once, not read forever', () => {
    const fifo = join(dir, 'autotune-fifo.json');
    execFileSync('mkfifo', [fifo]);
    const zero = join(dir, 'autotune-zero.json');
    symlinkSync('/dev/zero', zero);
    const started = performance.now();
    expect(() => fileTuneStore(fifo).load('any')).toThrow(/autotune-fifo\.json: not a regular file \(a device, FIFO or socket\)/);
    expect(() => fileTuneStore(zero).load('any')).toThrow(/autotune-zero\.json: not a regular file/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a gzip bomb fails in under 2 s without growing the process by 100 MB', () => {
    // 300 gzip members of 1 MiB of zeros each: 300 MiB once inflated, from about 300 kB.
    const member = gzipSync(Buffer.alloc(1 << 20));
    writeFileSync(join(dir, 'bomb-idx3-ubyte.gz'), Buffer.concat(Array.from({ length: 300 }, () => member)));
    const before = process.memoryUsage().rss;
    const started = performance.now();
    expect(() => readIdxBytes(join(dir, 'bomb-idx3-ubyte'))).toThrow(/bomb-idx3-ubyte\.gz: inflates past the 67108864-byte limit for an IDX file/);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 << 20);
  });

  it('a FIFO, a device or a directory is refused, not read forever', () => {
    const fifoDir = join(dir, 'fifo');
    execFileSync('mkdir', ['-p', fifoDir]);
    execFileSync('mkfifo', [join(fifoDir, 'train-images-idx3-ubyte')]);
    expect(() => loadMnist(fifoDir)).toThrow(/train-images-idx3-ubyte: not a regular file \(a device, FIFO or socket\)/);
    expect(() => loadImagesForPrediction('/dev/zero')).toThrow(/^\/dev\/zero: not a regular file/);
    expect(() => loadImagesForPrediction(dir)).toThrow(/is a directory, not a file/);
  });

  it('a PNG whose header claims 20000×20000 pixels is refused before it is decoded', () => {
    const png = Buffer.alloc(64);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(png);
    png.writeUInt32BE(20000, 16);
    png.writeUInt32BE(20000, 20);
    const file = join(dir, 'huge.png');
    writeFileSync(file, png);
    expect(() => loadImagesForPrediction(file)).toThrow(/huge\.png: 20000×20000 pixels is over the 4096×4096 limit/);
  });

  it('safetensors tensors that overlap are refused', () => {
    const bytes = encodeSafetensors([['a', { shape: [4], data: new Float32Array(4) }], ['b', { shape: [4], data: new Float32Array(4) }]], {});
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)).replace('"data_offsets":[16,32]', '"data_offsets":[8,24]');
    expect(header).toContain('[8,24]');
    const forged = new Uint8Array(bytes);
    forged.set(new TextEncoder().encode(header), 8);
    expect(() => decodeSafetensors(forged, 'f.safetensors')).toThrow(BadInputError);
    expect(() => decodeSafetensors(forged, 'f.safetensors')).toThrow(/f\.safetensors: tensors a and b overlap in the data \(bytes \[8, 16\)\)/);
  });
});

const gpu = await openTestDevice();
const mnist = loadMnist();
const train = sliceDataset(mnist.train, 0, 200, 'train');

describe('the library stops on GPU errors and misuse with typed errors', () => {
  it('a buffer over the device limit is refused by name before anything runs', async () => {
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    // A hidden layer whose weights fit the device's binding limit but whose activations at this batch do not.
    const hidden = Math.min(60000, Math.floor(limit / (4 * 795 * 2)));
    const model = new Model(gpu.device, { ...mlpOptions([784, hidden, 10]) });
    const batchSize = Math.ceil(limit / (hidden * 4)) + 1;
    const error = await model.fit(sliceDataset(mnist.train, 0, batchSize, 'train'), { epochs: 1, batchSize, optimizer: { kind: 'adam', lr: 1e-3 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceLimitError);
    expect((error as Error).message).toMatch(/^buffer 'h0' \(bytes\) needs [\d,]+ but the device's max(StorageBufferBinding|Buffer)Size is [\d,]+$/);
    expect((error as DeviceLimitError).needed).toBeGreaterThan(limit);
    expect(model.epochs).toBe(0);
    model.dispose();
  });

  it('an invalid pipeline (a variant past the device limits) is a GpuError, raised before the first step', async () => {
    const variants = { ...DEFAULT_VARIANTS, optimizer: [{ workgroupSize: 4096, vec4: true }] };
    const model = new Model(gpu.device, { ...mlpOptions([784, 16, 10]), variants });
    const before = await model.getParams();
    const error = await model.fit(train, { epochs: 1, batchSize: 50, optimizer: { kind: 'adam', lr: 1e-3 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as Error).message).toMatch(/^WebGPU error during building the training plan: .*adamUpdate/);
    expect(model.epochs).toBe(0);
    expect(await model.getParams()).toEqual(before);
    model.dispose();
  });

  it('divergence is a DivergedError with its epoch and step', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 16, 10]) });
    const error = await model.fit(train, { epochs: 2, batchSize: 50, progressEvery: 1, optimizer: { kind: 'sgd', lr: 1e30 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DivergedError);
    expect((error as DivergedError).epoch).toBe(1);
    expect(Number.isFinite((error as DivergedError).loss)).toBe(false);
    model.dispose();
  });

  it('misuse: a second fit while one runs, calls after dispose, a predict of a partial image, a pixelStd that overflows f32', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 16, 10]) });
    const first = model.fit(train, { epochs: 1, batchSize: 50, optimizer: { kind: 'adam', lr: 1e-3 } });
    await expect(model.fit(train, { epochs: 1, batchSize: 50, optimizer: { kind: 'adam', lr: 1e-3 } })).rejects.toThrow(MisuseError);
    await first;
    const running = model.fit(train, { epochs: 1, batchSize: 50, optimizer: { kind: 'adam', lr: 1e-3 } });
    expect(() => model.dispose()).toThrow(MisuseError);
    expect(() => model.dispose()).toThrow(/^dispose: a fit of this model is still running; stop it \(its signal\) and await it first$/);
    await running;
    await expect(model.predict(new Uint8Array(1000))).rejects.toThrow(/^predict: 1000 bytes is not a whole, positive number of 784-pixel images$/);
    model.dispose();
    await expect(model.evaluate(train)).rejects.toThrow(/^evaluate: the model was disposed$/);
    expect(() => model.setParams(new Float32Array(4))).toThrow(MisuseError);
    expect(() => new Model(gpu.device, { ...mlpOptions([784, 16, 10]), pixelStd: 1e-40 })).toThrow(/pixelStd 1e-40 is too small/);
  });
});

describe('every check a user can trigger throws a typed error', () => {
  const adam = { kind: 'adam' as const, lr: 1e-3 };
  it.each([
    ['epochs 0', { epochs: 0, batchSize: 50, optimizer: adam }, /epochs must be a positive integer, got 0/],
    ['epochs NaN', { epochs: NaN, batchSize: 50, optimizer: adam }, /epochs must be a positive integer, got NaN/],
    ['batch size 0', { epochs: 1, batchSize: 0, optimizer: adam }, /batch size must be a positive integer, got 0/],
    ['lr NaN', { epochs: 1, batchSize: 50, optimizer: { kind: 'adam' as const, lr: NaN } }, /optimizer lr out of range: NaN/],
    ['an unknown optimizer', { epochs: 1, batchSize: 50, optimizer: { kind: 'rmsprop' as 'adam', lr: 1e-3 } }, /unknown optimizer 'rmsprop'/],
    ['a bad schedule', { epochs: 1, batchSize: 50, optimizer: adam, schedule: { kind: 'linear' as 'cosine' } }, /unknown schedule 'linear'/],
    ['a bad augmentation', { epochs: 1, batchSize: 50, optimizer: adam, augment: { rotate: -1 } }, /augment: rotate must be a number in \[0, 180\]/],
  ])('fit with %s: BadInputError', async (_, options, message) => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 16, 10]) });
    const error = await model.fit(train, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadInputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).name).toBe('BadInputError');
    model.dispose();
  });

  it.each([
    ['the retired sizes option', () => new Model(gpu.device, { sizes: [784, 500, 10] } as never), /sizes is not an option: give the layers/],
    ['a bad layer list', () => parseLayers('linear:10,spin'), /unknown layer kind 'spin'/],
    ['a shape that does not fit', () => new Model(gpu.device, { layers: parseLayers('conv2d:4:k=3,linear:10') }), /put flatten before it/],
    ['a bad seed', () => new Model(gpu.device, { ...mlpOptions([784, 10]), seed: -1 }), /seed must be an integer/],
  ])('%s: BadInputError', (_, make, message) => {
    expect(make).toThrow(BadInputError);
    expect(make).toThrow(message);
  });
});

describe('checkpoints that cannot be right', () => {
  it('a negative Adam second moment is refused on load, and the model is left as it was', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: 1 });
    await model.fit(sliceDataset(train, 0, 40, 'train'), { epochs: 1, batchSize: 20, optimizer: { kind: 'adam', lr: 1e-3 } });
    const file = decodeSafetensors(await saveCheckpoint(model, { full: true }), 'ckpt');
    file.tensors.get('optimizer.exp_avg_sq.2.bias')!.data[3] = -1e-3;
    const fresh = new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: 2 });
    const before = await fresh.getParams();
    expect(() => loadCheckpoint(fresh, encodeSafetensors([...file.tensors.entries()], file.metadata), 'bad.safetensors'))
      .toThrow(/^bad\.safetensors: optimizer\.exp_avg_sq holds a negative value, which no Adam run produces$/);
    expect(await fresh.getParams()).toEqual(before);
    model.dispose();
    fresh.dispose();
  });
});

describe('readers check what a file is before trusting its header', () => {
  it('an SVG, a JPEG or an empty file named .png is not a PNG; JSON, a PNG or gzip given as a model is not safetensors; an IDX file of 0 images holds none', () => {
    const svg = join(dir, 'digit-svg.png');
    writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"></svg>');
    expect(() => loadImagesForPrediction(svg)).toThrow(/digit-svg\.png: not a PNG file \(no PNG signature; it looks like an SVG\)/);
    const jpeg = join(dir, 'digit-jpeg.png');
    writeFileSync(jpeg, Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...new Array(40).fill(0)]));
    expect(() => loadImagesForPrediction(jpeg)).toThrow(/not a PNG file \(no PNG signature; it looks like a JPEG\)/);
    writeFileSync(join(dir, 'empty.png'), '');
    expect(() => loadImagesForPrediction(join(dir, 'empty.png'))).toThrow(/empty\.png: .*(empty|not a PNG)/);
    expect(() => decodeSafetensors(new TextEncoder().encode('{"sizes": [784, 10], "weights": []}'), 'model.json')).toThrow(/^model\.json: not a safetensors file \(it is JSON/);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(40).fill(1)]);
    expect(() => decodeSafetensors(png, 'model.png')).toThrow(/^model\.png: not a safetensors file \(it is a PNG image\)/);
    expect(() => decodeSafetensors(gzipSync(Buffer.alloc(100)), 'm.gz')).toThrow(/not a safetensors file \(it is gzipped; gunzip it first\)/);
    const none = Buffer.alloc(16);
    none.writeUInt32BE(0x00000803, 0); none.writeUInt32BE(0, 4); none.writeUInt32BE(28, 8); none.writeUInt32BE(28, 12);
    writeFileSync(join(dir, 'none-idx3-ubyte'), none);
    expect(() => loadImagesForPrediction(join(dir, 'none-idx3-ubyte'))).toThrow(/none-idx3-ubyte: holds no images \(dimensions \[0, 28, 28\]\)/);
  });
});

describe('as strict as the reference', () => {
  const model = async () => {
    const m = new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: 1 });
    return { m, file: decodeSafetensors(await saveCheckpoint(m, { full: true }), 'ckpt') };
  };

  it('duplicate keys in a safetensors header are refused, naming the key', () => {
    const header = new TextEncoder().encode('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    const bytes = new Uint8Array(8 + header.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect(() => decodeSafetensors(bytes, 'dup.safetensors')).toThrow(/^dup\.safetensors: header names "w" twice/);
  });

  it('an extra tensor in a model file or in importState is refused by name; the model is left as it was', async () => {
    const { m, file } = await model();
    const fresh = new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: 2 });
    const before = await fresh.getParams();
    const extra = encodeSafetensors([...file.tensors.entries(), ['4.weight', { shape: [2], data: new Float32Array(2) }]], file.metadata);
    expect(() => loadCheckpoint(fresh, extra, 'extra.safetensors')).toThrow(/^extra\.safetensors: tensor 4\.weight has no place in 784 → linear:8,relu,linear:10$/);
    const state = await m.exportState();
    state.tensors.set('bonus', { shape: [1], data: new Float32Array(1) });
    expect(() => fresh.importState(state, 'state')).toThrow(/^state: tensor bonus has no place in/);
    expect(await fresh.getParams()).toEqual(before);
    m.dispose();
    fresh.dispose();
  });

  it('a file of another format, or from a newer engine, is refused; --epochs 0x1 is not read as hex', async () => {
    const { m, file } = await model();
    const tensors = [...file.tensors.entries()];
    expect(() => Model.fromSafetensors(gpu.device, encodeSafetensors(tensors, { ...file.metadata, format: 'keras' }), 'k.safetensors'))
      .toThrow(/^k\.safetensors: metadata format 'keras' is not this engine's \('webgpu-mlp'\)$/);
    expect(() => Model.fromSafetensors(gpu.device, encodeSafetensors(tensors, { ...file.metadata, engine_version: '99.0.0' }), 'new.safetensors'))
      .toThrow(/^new\.safetensors: written by engine 99\.0\.0, newer than this one/);
    m.dispose();
    const r = run('train', ['--epochs', '0x1']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe("train: --epochs must be an integer ≥ 1, got '0x1'");
  });

  it('a loss that explodes while finite is divergence; the weights it leaves cannot be evaluated or saved; setParams refuses NaN', async () => {
    const m = new Model(gpu.device, { ...mlpOptions([784, 16, 10]), seed: 1 });
    const error = await m.fit(train, { epochs: 2, batchSize: 50, progressEvery: 1, optimizer: { kind: 'adam', lr: 1e6 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DivergedError);
    expect((error as DivergedError).loss).toBeGreaterThan(100 * Math.log(10));
    await expect(m.evaluate(train)).rejects.toThrow(/^evaluate: the last fit diverged/);
    await expect(m.toSafetensors()).rejects.toThrow(/^exportState: the last fit diverged/);
    const length = (await m.getParams()).length;
    expect(() => m.setParams(new Float32Array(length).fill(NaN))).toThrow(/^setParams: value 0 is NaN, not a finite number$/);
    m.setParams(new Float32Array(length));
    expect((await m.evaluate(train)).loss).toBeCloseTo(Math.log(10), 5);
    m.dispose();
  });
});

describe('process level', () => {
  it('SIGTERM to npm ends the training it started (one process, no orphan) and removes its XDG_RUNTIME_DIR', async () => {
    const marker = join(dir, `sigterm-${process.pid}.json`);
    // The run's temporary folder is its own, so what other processes on the machine leave there does not count.
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
    delete env.XDG_RUNTIME_DIR;
    const npm = spawn('npm', ['run', '-s', 'train', '--', '--epochs', '5', '--limit', '3000', '--hidden', '32', '--json', marker], { stdio: ['ignore', 'pipe', 'pipe'], env });
    await new Promise<void>((resolve) => npm.stdout.on('data', (d: Buffer) => /^data:/m.test(String(d)) && resolve()));
    npm.kill('SIGTERM');
    await new Promise((resolve) => npm.once('exit', resolve));
    let left = '';
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 250));
      left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(marker)).join('\n');
      if (!left) break;
    }
    expect(left, 'processes still running').toBe('');
    expect(readdirSync(tmp).filter((n) => n.startsWith('webgpu-xdg-'))).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('one writer per output', () => {
  it('a second training with the same --checkpoint is refused while the first runs; a stale lock is taken over', () => {
    const checkpoint = join(dir, 'shared.ckpt.safetensors');
    // A live process whose arguments are a training's.
    const first = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'src/cli/train.ts'], { stdio: 'ignore' });
    writeFileSync(`${checkpoint}.lock`, String(first.pid));
    const r = run('train', ['--epochs', '1', '--limit', '200', '--hidden', '8', '--checkpoint', checkpoint]);
    first.kill();
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe(`train: --checkpoint ${checkpoint}: another run (pid ${first.pid}) is writing it; wait for that run, or give another file`);
    writeFileSync(`${checkpoint}.lock`, '999999999'); // no such process
    const ok = run('train', ['--epochs', '1', '--limit', '200', '--hidden', '8', '--checkpoint', checkpoint]);
    expect(ok.code, ok.err.join('\n')).toBe(0);
    expect(existsSync(checkpoint)).toBe(true);
    expect(existsSync(`${checkpoint}.lock`), 'released at exit').toBe(false);
  });

  it('a sweep configuration over the device limits gets its row (failed) and the sweep goes on', () => {
    const out = join(dir, 'sweep-limits');
    const r = spawnSync(tsx, ['src/cli/sweep.ts', '--hidden', '60000x60000,8', '--epochs', '1', '--limit', '100', '--validation-size', '50', '--out', out], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^1 +8 adam .* ok$/m);
    expect(r.stdout).toMatch(/^2 +60000x60000 adam .* failed: buffer 'params' \(bytes\) needs [\d,]+ but the device's max\w+ is [\d,]+$/m);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.results.map((x: { status: string }) => x.status)).toEqual(['ok', 'failed']);
  });

  it('sweep --out into a directory that holds a sweep is refused, and the first results are kept', () => {
    const out = join(dir, 'sweep-twice');
    mkdirSync(out);
    writeFileSync(join(out, 'results.json'), '{"configs": []}');
    const r = spawnSync(tsx, ['src/cli/sweep.ts', '--hidden', '8', '--epochs', '1', '--limit', '100', '--out', out], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`sweep: --out ${out} already holds a sweep's results; give another --out (to repeat that sweep: --plan ${join(out, 'results.json')} --out NEW)`);
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('{"configs": []}');
  });
});

describe('resources', () => {
  it('100 cycles of create → train a few steps → dispose leave no live GPU buffer behind', async () => {
    const before = liveBuffers(gpu.device);
    const data = sliceDataset(train, 0, 40, 'train');
    for (let cycle = 0; cycle < 100; cycle++) {
      const model = new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: cycle });
      await model.fit(data, { epochs: 1, batchSize: 20, optimizer: { kind: 'adam', lr: 1e-3 }, validation: data, restoreBest: cycle % 2 === 0 });
      if (cycle === 0) expect(liveBuffers(gpu.device).count).toBeGreaterThan(before.count);
      model.dispose();
      expect(liveBuffers(gpu.device), `after cycle ${cycle}`).toEqual(before);
    }
  });

  it('refused constructions and loads leave the live GPU buffers where they were', async () => {
    const before = liveBuffers(gpu.device);
    const refused: [string, () => unknown][] = [
      ['a bad seed', () => new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: -3 })],
      ['a pixelStd that overflows f32', () => new Model(gpu.device, { ...mlpOptions([784, 8, 10]), pixelStd: 1e-300 })],
      ['an unknown input kind', () => new Model(gpu.device, { ...mlpOptions([784, 8, 10]), input: 'f16' as 'f32' })],
      ['evaluationBatch 0', () => new Model(gpu.device, { ...mlpOptions([784, 8, 10]), evaluationBatch: 0 })],
      ['a model past the device limits', () => new Model(gpu.device, { ...mlpOptions([784, 60000, 60000, 10]) })],
    ];
    const good = new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: 1 });
    const file = decodeSafetensors(await saveCheckpoint(good), 'm');
    good.dispose();
    refused.push(['a file with pixel_std 1e-300', () => Model.fromSafetensors(gpu.device, encodeSafetensors([...file.tensors.entries()], { ...file.metadata, pixel_std: '1e-300' }), 'tiny-std.safetensors')]);
    // Metadata that claims 784-15000-15000-10 over the tensors of 784-8-10: refused before 948 MB are allocated.
    refused.push(['a file whose metadata claims a huge model', () => Model.fromSafetensors(gpu.device, encodeSafetensors([...file.tensors.entries()], { ...file.metadata, sizes: '[784,15000,15000,10]', layers: 'linear:15000,relu,linear:15000,relu,linear:10' }), 'claims.safetensors')]);
    refused.push(['a file with an extra tensor', () => Model.fromSafetensors(gpu.device, encodeSafetensors([...file.tensors.entries(), ['9.weight', { shape: [1], data: new Float32Array(1) }]], file.metadata), 'extra.safetensors')]);
    const started = performance.now();
    expect(() => refused.at(-2)![1]()).toThrow(/^claims\.safetensors: tensor 0\.weight has shape \[8, 784\], the model needs \[15000, 784\]$/);
    expect(performance.now() - started).toBeLessThan(1000);
    for (let round = 0; round < 10; round++) {
      for (const [what, make] of refused) {
        expect(make, what).toThrow();
        expect(liveBuffers(gpu.device), `after ${what}`).toEqual(before);
      }
    }
  });

  it('with a full checkpoint, a run goes on from it on a new device after the device is lost, and ends where it would have', async () => {
    const path = join(dir, 'recover.safetensors');
    const data = sliceDataset(train, 0, 60, 'train');
    const fit = { epochs: 3, batchSize: 20, optimizer: { kind: 'adam' as const, lr: 1e-3 } };
    const adapter = (process.env.WEBGPU_ADAPTER as AdapterChoice | undefined) ?? 'auto';
    let own = await openNodeDevice(adapter);
    let model = new Model(own.device, { ...mlpOptions([784, 8, 10]), seed: 3 });
    const lines: string[] = [];
    let lost = false;
    await withDeviceRecovery({ checkpoint: path, log: (l) => lines.push(l) }, async (fromCheckpoint) => {
      if (fromCheckpoint) {
        own.destroy();
        own = await openNodeDevice(adapter);
        model = openModelFile(own.device, path).model;
      }
      return model.fit(data, {
        ...fit, epochs: fit.epochs - model.epochs, progressEvery: 1,
        onStep: (s) => {
          if (s.epoch === 2 && s.step === 2 && !lost) {
            lost = true;
            own.device.destroy();
          }
        },
        onEpoch: async () => writeFileSync(path, await saveCheckpoint(model, { full: true })),
      });
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^the GPU device was lost \(destroyed.*; continuing from .*recover\.safetensors on a new device$/);
    expect(model.epochs).toBe(3);
    const straight = new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: 3 });
    await straight.fit(data, fit);
    expect(await model.getParams()).toEqual(await straight.getParams());
    straight.dispose();
    model.dispose();
    own.destroy();
    // Without a checkpoint the loss is final, and says what would have helped.
    await expect(withDeviceRecovery({ log: () => undefined }, async () => { throw new DeviceLostError('destroyed', ''); }))
      .rejects.toThrow(/no checkpoint to continue from \(train with --checkpoint FILE\)$/);
  });

  it('a device lost mid-training ends fit with a DeviceLostError', async () => {
    const own = await openNodeDevice((process.env.WEBGPU_ADAPTER as AdapterChoice | undefined) ?? 'auto');
    const model = new Model(own.device, { ...mlpOptions([784, 8, 10]) });
    const error = await model.fit(train, {
      epochs: 3, batchSize: 20, progressEvery: 1, optimizer: { kind: 'adam', lr: 1e-3 },
      onStep: (s) => { if (s.step === 3) own.device.destroy(); },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceLostError);
    expect((error as Error).message).toMatch(/^the GPU device was lost \(destroyed/);
    // Later calls say the same, not an empty DOMException.
    await expect(model.evaluate(train)).rejects.toThrow(DeviceLostError);
    await expect(model.predict(train.images.subarray(0, 784))).rejects.toThrow(/^the GPU device was lost \(destroyed/);
    own.destroy();
  });
});
