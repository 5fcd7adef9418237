// Reliability, round three: the faults found in what came after the first two rounds (ONNX export, the
// checkpoint lock, refused plans, the layer and augment grammars, caches). Each gives one line naming the
// problem, before any work, with nothing saved lost and no GPU buffer left behind.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type Tensor } from '../src/data/safetensors.js';
import { sliceDataset } from '../src/data/dataset.js';
import { Model } from '../src/engine/model.js';
import { decodeModelState } from '../src/engine/checkpoint.js';
import { checkModelState } from '../src/engine/modelState.js';
import { parseLayers } from '../src/layers/index.js';
import { readModelFile } from '../src/node/modelFiles.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { loadImagesForPrediction } from '../src/node/images.js';
import { splitMnist } from '../src/data/mnist.js';
import { openTestDevice } from './helpers/gpu.js';
import { liveBuffers } from '../src/gpu/buffers.js';
import { BadInputError, DeviceLimitError, MisuseError } from '../src/errors.js';
import { parseAugmentation } from '../src/augment/spec.js';
import { writeFileAtomic } from '../src/node/files.js';
import { nestingDepth, readCacheJson } from '../src/node/cacheFiles.js';
import { fileTuneStore } from '../src/node/tuneStore.js';
import { autotuneVariants, trainingMatmuls, type TuneStore } from '../src/tuning/autotune.js';
import { matmulShapeKey } from '../src/gpu/variants.js';
import { mlpOptions } from './helpers/model.js';
import { mlpArchitecture } from '../src/engine/mlp.js';

const dir = mkdtempSync(join(tmpdir(), 'faults3-'));
const tsx = join('node_modules', '.bin', 'tsx');
const run = (script: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  const r = spawnSync(tsx, [`src/cli/${script}.ts`, ...args], { encoding: 'utf8', timeout: 300_000, env });
  const err = r.stderr.split('\n').filter((l) => l.trim() && !/XDG_RUNTIME_DIR/.test(l) && !/PerPipelineLayout artificially reduced/.test(l) && !/^epoch \d+\/\d+ +\d+% /.test(l));
  return { code: r.status, out: r.stdout, err };
};
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const gpu = await openTestDevice();
const mnist = loadMnist();
const train = sliceDataset(mnist.train, 0, 200, 'train');

/** A model's file decoded, to be altered tensor by tensor. */
async function fileOf(options: ConstructorParameters<typeof Model>[1]) {
  const m = new Model(gpu.device, options);
  const file = decodeSafetensors(await m.toSafetensors(), 'm');
  m.dispose();
  return file;
}

describe('export checks a model file exactly as loading a model does, before writing anything', async () => {
  const mlp = await fileOf({ ...mlpOptions([784, 8, 10]), seed: 1, pixelMean: 0.1307, pixelStd: 0.3081 });
  const cnn = await fileOf({ layers: parseLayers('conv2d:4:k=3,relu,maxpool2d:2,flatten,linear:10'), seed: 1 });
  const altered = (file: typeof mlp, change: (t: Map<string, Tensor>, m: Record<string, string>) => void) => {
    const tensors = new Map([...file.tensors].map(([k, t]) => [k, { ...t, data: Float32Array.from(t.data) }]));
    const metadata = { ...file.metadata };
    change(tensors, metadata);
    return encodeSafetensors([...tensors], metadata);
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['a NaN weight', altered(mlp, (t) => { t.get('0.weight')!.data[5] = NaN; }), /tensor 0\.weight holds a non-finite value$/],
    ['an infinite bias', altered(mlp, (t) => { t.get('2.bias')!.data[0] = -Infinity; }), /tensor 2\.bias holds a non-finite value$/],
    ['pixel_std 1e-300', altered(mlp, (_, m) => { m.pixel_std = '1e-300'; }), /pixelStd 1e-300 is too small \(1\/std or mean\/std overflows f32\)$/],
    ['2.weight stored transposed', altered(mlp, (t) => { t.set('2.weight', { shape: [8, 10], data: t.get('2.weight')!.data }); }),
      /tensor 2\.weight has shape \[8, 10\], the model needs \[10, 8\]$/],
    ['a convolution weight stored 2-D', altered(cnn, (t) => { t.set('0.weight', { shape: [4, 9], data: t.get('0.weight')!.data }); }),
      /tensor 0\.weight has shape \[4, 9\], the model needs \[4, 1, 3, 3\]$/],
    ['maxpool2d:4 in the metadata over maxpool2d:2 tensors', altered(cnn, (_, m) => { m.layers = m.layers.replace('maxpool2d:2', 'maxpool2d:4'); }),
      /tensor 4\.weight has shape \[10, 676\], the model needs \[10, 144\]$/],
    ['an extra tensor', altered(mlp, (t) => { t.set('7.weight', { shape: [2], data: new Float32Array(2) }); }), /tensor 7\.weight has no place in 784 → linear:8,relu,linear:10$/],
    ['a last layer the engine cannot take', altered(mlp, (_, m) => { m.layers = 'linear:8,relu'; }), /the last layer must be linear \(its outputs are the class scores\), got relu$/],
    ['an input shape the layers cannot take', altered(cnn, (_, m) => { m.inputs = '[1,2,2]'; }), /layer 0 \(conv2d:4:k=3\) cannot take its input 1×2×2: a 3×3 kernel with padding 0 does not fit a 1×2×2 image$/],
  ];
  const paths = cases.map(([, bytes], i) => {
    const path = join(dir, `bad-${i}.safetensors`);
    writeFileSync(path, bytes);
    return path;
  });

  it.each(cases.map(([what, , message], i) => [what, message, paths[i]] as const))('%s: refused by the model reader, naming the file', (_, message, path) => {
    expect(() => readModelFile(path)).toThrow(new RegExp(`^${escape(path)}: ${message.source}`));
  });

  it('the export command refuses each in one line, exit 2, and writes no ONNX file', () => {
    // One process for all: each run of the command costs a second of startup.
    for (const [i, [what, , message]] of cases.entries()) {
      const onnx = join(dir, `bad-${i}.onnx`);
      const r = run('export', ['--model', paths[i], '--onnx', onnx]);
      expect(r.code, what).toBe(2);
      expect(r.err, what).toHaveLength(1);
      expect(r.err[0], what).toMatch(new RegExp(`^export: ${escape(paths[i])}: ${message.source}`));
      expect(existsSync(onnx), what).toBe(false);
    }
  }, 120_000);

  it('the check every reader and export go through refuses a state no model would take', () => {
    const state = decodeModelState(decodeSafetensors(cases[0][1], 'nan.safetensors'), 'nan.safetensors');
    expect(() => checkModelState(state, 'nan.safetensors')).toThrow(/^nan\.safetensors: tensor 0\.weight holds a non-finite value$/);
  });

  it('a good file still exports, naming the architecture', () => {
    const path = join(dir, 'good.safetensors');
    writeFileSync(path, encodeSafetensors([...cnn.tensors], cnn.metadata));
    const r = run('export', ['--model', path, '--onnx', join(dir, 'good.onnx')]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out).toMatch(/^exported: .*good\.onnx \(1×28×28 → conv2d:4:k=3,relu,maxpool2d:2,flatten,linear:10; /);
  });
});

describe('files from other tools', () => {
  it("a PyTorch state dict whose metadata says {format: 'pt'} loads as the same file without metadata does", async () => {
    const m = new Model(gpu.device, { ...mlpOptions([784, 8, 10]), seed: 3 });
    await m.fit(train, { epochs: 1, batchSize: 50, optimizer: { kind: 'adam', lr: 1e-3 } });
    const want = await m.evaluate(train);
    const file = decodeSafetensors(await m.toSafetensors(), 'm');
    m.dispose();
    for (const format of ['pt', 'np', 'tf']) {
      const pt = Model.fromSafetensors(gpu.device, encodeSafetensors([...file.tensors], { format }), `${format}.safetensors`);
      expect((await pt.evaluate(train)).accuracy).toBe(want.accuracy);
      pt.dispose();
    }
    // Another format that carries this engine's keys cannot be told apart: refused.
    expect(() => Model.fromSafetensors(gpu.device, encodeSafetensors([...file.tensors], { format: 'pt', layers: 'linear:8,relu,linear:10' }), 'mixed.safetensors'))
      .toThrow(/^mixed\.safetensors: metadata format 'pt' is not this engine's/);
  });
});

describe('the checkpoint lock', () => {
  const train1 = ['--epochs', '1', '--limit', '200', '--hidden', '8'];
  const lockCase = (name: string, make: (lock: string) => void) => {
    const checkpoint = join(dir, `${name}.ckpt.safetensors`);
    make(`${checkpoint}.lock`);
    const started = performance.now();
    const r = run('train', [...train1, '--checkpoint', checkpoint]);
    return { checkpoint, lock: `${checkpoint}.lock`, r, seconds: (performance.now() - started) / 1000 };
  };

  it.each([
    ['a FIFO', (lock: string) => execFileSync('mkfifo', [lock]), /not a regular file \(a device, FIFO or socket\)/],
    ['a directory', (lock: string) => mkdirSync(lock), /is a directory, not a file/],
    ['a 2 GB file', (lock: string) => { writeFileSync(lock, ''); truncateSync(lock, 2 ** 31); }, /2147483648 bytes is over the 64-byte limit for this file/],
  ])('%s at FILE.lock is refused at once in one line naming the lock', (_, make, why) => {
    const { checkpoint, lock, r, seconds } = lockCase(`odd-${Math.random().toString(36).slice(2)}`, make);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^train: --checkpoint ${escape(checkpoint)}: its lock cannot be read \\(${escape(lock)}: ${why.source}\\); remove it if no run is writing the file$`));
    expect(seconds).toBeLessThan(30);
    expect(existsSync(checkpoint)).toBe(false);
  });

  it('a lock that names a live process that is not a training run is refused naming the lock; one that names a training says so', async () => {
    const other = lockCase('other', (lock) => writeFileSync(lock, String(process.pid))); // this test runner
    expect(other.r.code).toBe(2);
    expect(other.r.err).toHaveLength(1);
    expect(other.r.err[0]).toMatch(new RegExp(`^train: --checkpoint ${escape(other.checkpoint)}: its lock ${escape(other.lock)} names pid ${process.pid}, a live process that is not a training run \\(".*"\\); remove ${escape(other.lock)} if no run is writing the file$`));
    expect(readFileSync(other.lock, 'utf8')).toBe(String(process.pid));
    // A process whose arguments are a training's.
    const training = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'src/cli/train.ts'], { stdio: 'ignore' });
    try {
      const busy = lockCase('busy', (lock) => writeFileSync(lock, String(training.pid)));
      expect(busy.r.code).toBe(2);
      expect(busy.r.err).toEqual([`train: --checkpoint ${busy.checkpoint}: another run (pid ${training.pid}) is writing it; wait for that run, or give another file`]);
    } finally {
      training.kill();
    }
  });

  it.each([['empty', ''], ['unparsable', 'x1'], ['a partial write', ' \n']])('a lock that holds no pid (%s) and was just made is refused naming it, not taken over', (_, text) => {
    const { checkpoint, lock, r } = lockCase(`fresh-${Math.random().toString(36).slice(2)}`, (path) => writeFileSync(path, text));
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    const shown = text.trim() ? escape(JSON.stringify(text.trim())) : 'empty';
    expect(r.err[0]).toMatch(new RegExp(`^train: --checkpoint ${escape(checkpoint)}: its lock ${escape(lock)} holds no pid \\(${shown}\\) and was made \\d+\\.\\d s ago: another run may be starting; remove ${escape(lock)} if no run is writing the file$`));
    expect(readFileSync(lock, 'utf8')).toBe(text);
    expect(existsSync(checkpoint)).toBe(false);
  });

  it('a lock that holds no pid and is a minute old is taken over as stale; the run trains and releases it', () => {
    const { checkpoint, lock, r } = lockCase('stale-empty', (path) => {
      writeFileSync(path, '');
      const minuteAgo = new Date(Date.now() - 60_000);
      utimesSync(path, minuteAgo, minuteAgo);
    });
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.err).toEqual([]);
    expect(existsSync(checkpoint)).toBe(true);
    expect(existsSync(lock)).toBe(false);
  }, 120_000);

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s ends a training and removes its lock', async (signal) => {
    const checkpoint = join(dir, `signal-${signal}.ckpt.safetensors`);
    // As `npm run train` runs it (node --import tsx): the tsx wrapper would relay the signal and SIGKILL a busy child.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', '--epochs', '50', '--limit', '3000', '--hidden', '32', '--checkpoint', checkpoint], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => /^data:/m.test(String(d)) && resolve()));
    expect(existsSync(`${checkpoint}.lock`)).toBe(true);
    child.kill(signal);
    const [code, by] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    // Ended as the signal ends a process (or with its 128 + n code), not by finishing the 50 epochs.
    expect(by === signal || code === 128 + constants.signals[signal], `exit ${code} ${by}`).toBe(true);
    expect(existsSync(`${checkpoint}.lock`)).toBe(false);
  }, 120_000);
});

describe('refused plans leave nothing behind', () => {
  it('a fit or an evaluation refused for a buffer over the device limit frees what its plan made; dispose() brings the device back', async () => {
    const before = liveBuffers(gpu.device);
    // h0 of conv2d:32:k=3 on 28×28 is 26·26·32 floats a row: enough rows to pass the binding limit, whose
    // input (784 bytes a row) and labels still fit, so the plan has made buffers when it is refused.
    const perRow = 26 * 26 * 32 * 4;
    const rows = Math.floor(gpu.device.limits.maxStorageBufferBindingSize / perRow) + 1;
    const data = sliceDataset(mnist.train, 0, rows, 'big');
    const m = new Model(gpu.device, { layers: parseLayers('conv2d:32:k=3,relu,flatten,linear:10'), evaluationBatch: rows });
    const own = liveBuffers(gpu.device);
    for (let i = 0; i < 20; i++) {
      const fit = await m.fit(data, { epochs: 1, batchSize: rows, optimizer: { kind: 'sgd', lr: 0.01 }, gpuResidentData: false }).catch((e: unknown) => e);
      expect(fit, 'fit').toBeInstanceOf(DeviceLimitError);
      expect((fit as Error).message).toMatch(/^buffer 'h0' \(bytes\) needs /);
      const evaluation = await m.evaluate(data).catch((e: unknown) => e);
      expect(evaluation, 'evaluate').toBeInstanceOf(DeviceLimitError);
      // The optimizer a fit starts stays with the model (dispose frees it); the refused plans leave nothing.
      if (i === 0) own.count = liveBuffers(gpu.device).count;
      expect(liveBuffers(gpu.device).count, `after refusal ${i}`).toBe(own.count);
    }
    m.dispose();
    expect(liveBuffers(gpu.device)).toEqual(before);
  }, 120_000);
});

describe('name tables are looked up by own keys, and the layer and augment grammars are as strict as the flags', () => {
  it.each([
    ['constructor,linear:10', /^unknown layer kind 'constructor' in 'constructor' \(layer 0\): expected linear, /],
    ['linear:10,toString', /^unknown layer kind 'toString' in 'toString' \(layer 1\)/],
    ['__proto__', /^unknown layer kind '__proto__'/],
    ['conv2d:8:k=3:constructor=5,flatten,linear:10', /^layer 0 \('conv2d:8:k=3:constructor=5'\): conv2d option 'constructor=5' is not one of k=N, stride=N, pad=N$/],
    ['conv2d:8:k=3:k=5,flatten,linear:10', /^layer 0 \('conv2d:8:k=3:k=5'\): conv2d option k is given twice$/],
    ['maxpool2d:2:stride=1:stride=2', /maxpool2d option stride is given twice$/],
    ['linear:1e3', /^layer 0 \('linear:1e3'\): linear takes its width, an integer in 1\.\.\d+ \(linear:500\), got '1e3'$/],
    ['linear:0x10', /got '0x10'$/],
    ['linear:10,dropout:0x0,linear:10', /^layer 1 \('dropout:0x0'\): dropout takes the probability of dropping, in \[0, 1\) \(dropout:0\.2\), got '0x0'$/],
    ['line\u200bar:10', /^unknown layer kind 'line\\u\{200b\}ar' in 'line\\u\{200b\}ar:10'/],
    [Array(1001).fill('linear:4').join(','), /^the layer list has 1001 layers; at most 1000$/],
  ])('parseLayers(%j) is refused', (text, message) => {
    expect(() => parseLayers(text)).toThrow(BadInputError);
    expect(() => parseLayers(text)).toThrow(message);
  });

  it('the decimal forms still parse', () => {
    expect(parseLayers('linear:10,dropout:0.25,dropout:.5,dropout:1e-7,linear:10')).toEqual([
      { kind: 'linear', outputs: 10 }, { kind: 'dropout', p: 0.25 }, { kind: 'dropout', p: 0.5 }, { kind: 'dropout', p: 1e-7 }, { kind: 'linear', outputs: 10 },
    ]);
  });

  it.each([
    ['constructor=1', /^--augment: unknown distortion 'constructor' \(known: /],
    ['toString=1', /^--augment: unknown distortion 'toString'/],
    ['rotate=NaN', /^--augment: rotate must be a number in \[0, 180\] degrees, got 'NaN'$/],
    ['rotate=Infinity', /got 'Infinity'$/],
    ['shift=-5', /^--augment: shift must be a number in \[0, 64\] pixels, got '-5'$/],
    ['rotate=0x10', /got '0x10'$/],
    ['rotate=１２', /got '１２'$/],
    ['elastic=NaN:4', /^--augment: elastic α must be a number in \[0, 1000\] pixels, got 'NaN'$/],
    ['rotate=5,rotate=6', /^--augment: rotate is given twice$/],
  ])('--augment %s is refused showing what was typed', (text, message) => {
    expect(() => parseAugmentation(text)).toThrow(BadInputError);
    expect(() => parseAugmentation(text)).toThrow(message);
  });

  it('the library refuses inputs of the wrong type with a BadInputError, before allocating anything', async () => {
    const before = liveBuffers(gpu.device);
    const refused: [string, () => unknown, RegExp][] = [
      ["a layer { kind: 'constructor' }", () => new Model(gpu.device, { layers: [{ kind: 'constructor' } as never, { kind: 'linear', outputs: 10 }] }), /^unknown layer kind 'constructor'/],
      ['a layer that is not an object', () => new Model(gpu.device, { layers: [null as never] }), /^unknown layer kind null, not a \{ kind \} object/],
      ["layers: 'linear:10' (a string)", () => new Model(gpu.device, { layers: 'linear:10' as never }), /^layers must be a list of layer specs \(parseLayers\('linear:500,relu,linear:10'\) makes one\), got string$/],
      ['1001 layers', () => new Model(gpu.device, { layers: Array(1001).fill({ kind: 'linear', outputs: 4 }) }), /^a model has at most 1000 layers, got 1001$/],
      ['parseLayers of a number', () => parseLayers(5 as never), /^the layer list must be a string/],
    ];
    for (const [what, make, message] of refused) {
      expect(make, what).toThrow(BadInputError);
      expect(make, what).toThrow(message);
    }
    expect(liveBuffers(gpu.device)).toEqual(before);
    const m = new Model(gpu.device, { ...mlpOptions([784, 8, 10]) });
    for (const [images, got] of [[Array(784).fill(0), 'a plain array'], [new Uint16Array(784), 'a Uint16Array'], [null, 'null']] as const) {
      const error = await m.predict(images as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadInputError);
      expect((error as Error).message).toBe(`predict: holds ${got}, not u8 pixels (a Uint8Array)`);
    }
    m.dispose();
  });

  it('the CLI: --layers constructor,linear:10 in one line, exit 2', () => {
    const r = run('train', ['--layers', 'constructor,linear:10', '--epochs', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^train: .*unknown layer kind 'constructor' in 'constructor' \(layer 0\)/);
  });
});

describe('safetensors headers', () => {
  const fileOfHeader = (json: string) => {
    const header = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + header.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    return bytes;
  };

  it.each([
    ['shape', '{"w":{"dtype":"F32","shape":[2],"shape":[1],"data_offsets":[0,4]}}', /^dup\.safetensors: header entry "w" names "shape" twice/],
    ['data_offsets', '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"data_offsets":[4,8]}}', /^dup\.safetensors: header entry "w" names "data_offsets" twice/],
    ['a metadata key', '{"__metadata__":{"pixel_std":"1","pixel_std":"0.3"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', /^dup\.safetensors: header entry "__metadata__" names "pixel_std" twice/],
    ['a tensor', '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', /^dup\.safetensors: header names "w" twice/],
  ])('a repeated key inside one entry (%s) is refused, naming the entry', (_, json, message) => {
    expect(() => decodeSafetensors(fileOfHeader(json), 'dup.safetensors')).toThrow(message);
  });

  it('keys repeated across entries, in arrays or inside strings, are not repeats', () => {
    const file = decodeSafetensors(fileOfHeader('{"__metadata__":{"note":"\\"shape\\": \\"shape\\":"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'), 'ok.safetensors');
    expect([...file.tensors.keys()]).toEqual(['a', 'b']);
  });
});

describe('the two old IDX messages', () => {
  it('a training set of 0 images says so, not "an integer in 0..-1"', () => {
    const empty = sliceDataset(mnist.train, 0, 0, 'train-images-idx3-ubyte');
    expect(() => splitMnist({ train: empty, test: mnist.test })).toThrow(/^the training set train-images-idx3-ubyte holds no images: nothing to train on or hold out$/);
  });

  it('a 1-D IDX file of 10 bytes given to predict shows its size', () => {
    const path = join(dir, 'ten.idx');
    writeFileSync(path, Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 10, ...Array(10).fill(7)]));
    expect(() => loadImagesForPrediction(path, 784)).toThrow(new RegExp(`^${escape(path)}: one image of 10 pixels \\(a 1-D file of \\[10\\]\\), the model takes 784$`));
  });
});

describe('dispose while a call is pending', () => {
  it('dispose() during an evaluate or predict is refused with a MisuseError; the call then finishes, and dispose works', async () => {
    const m = new Model(gpu.device, { ...mlpOptions([784, 8, 10]) });
    const evaluation = m.evaluate(train);
    expect(() => m.dispose()).toThrow(MisuseError);
    expect(() => m.dispose()).toThrow(/^dispose: 1 evaluate or predict call of this model is still running; await it first$/);
    const prediction = m.predict(train.images.subarray(0, 784 * 3));
    expect(() => m.dispose()).toThrow(/^dispose: 2 evaluate or predict calls of this model are still running; await them first$/);
    expect((await evaluation).count).toBe(200);
    expect((await prediction).length).toBe(30);
    m.dispose();
    await expect(m.predict(train.images.subarray(0, 784))).rejects.toThrow(/^predict: the model was disposed$/);
  });
});

describe('outputs are checked before the work, in every command', () => {
  it.each(['autotune', 'bench'])('%s --json into a missing folder is refused at once in one line naming --json, before the device opens', (command) => {
    const json = join(dir, 'missing', `${command}.json`);
    const started = performance.now();
    const r = run(command, ['--json', json]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`${command}: --json ${json}: no such directory ${join(dir, 'missing')}`]);
    expect(r.out).toBe(''); // no adapter line: nothing opened, tuned or timed
    expect((performance.now() - started) / 1000).toBeLessThan(30);
  });

  it('sweep: a bad --save-best or --out is refused before anything is written', () => {
    const out = join(dir, 'sweep-save-best');
    const best = join(dir, 'missing', 'best.safetensors');
    const r = run('sweep', ['--epochs', '1', '--out', out, '--save-best', best]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`sweep: --save-best ${best}: no such directory ${join(dir, 'missing')}`]);
    expect(existsSync(out)).toBe(false); // no folder, no plan.json
    const file = join(dir, 'sweep-a-file');
    writeFileSync(file, 'kept');
    const f = run('sweep', ['--epochs', '1', '--out', file]);
    expect(f.code).toBe(2);
    expect(f.err).toEqual([`sweep: --out ${file}: exists and is not a directory`]);
    expect(readFileSync(file, 'utf8')).toBe('kept');
    const blocked = join(dir, 'sweep-blocked');
    mkdirSync(join(blocked, 'results.csv'), { recursive: true });
    const b = run('sweep', ['--epochs', '1', '--out', blocked]);
    expect(b.code).toBe(2);
    expect(b.err).toEqual([`sweep: --out ${join(blocked, 'results.csv')}: exists and is not a regular file; it would be replaced`]);
    expect(existsSync(join(blocked, 'plan.json'))).toBe(false);
  });

  it('a write that names no flag names only its path (there is no --output flag)', () => {
    const path = join(dir, 'missing', 'x.json');
    expect(() => writeFileAtomic(path, '{}')).toThrow(new RegExp(`^${escape(path)}: no such directory `));
    expect(() => writeFileAtomic(path, '{}', 'json')).toThrow(new RegExp(`^--json ${escape(path)}: no such directory `));
  });
});

describe('cache faults cost the cache, not the run', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  /** A cache folder ($XDG_CACHE_HOME) whose webgpu-mlp/autotune.json holds `text`. */
  const cacheHolding = (name: string, text: string) => {
    const home = join(dir, name);
    mkdirSync(join(home, 'webgpu-mlp'), { recursive: true });
    writeFileSync(join(home, 'webgpu-mlp', 'autotune.json'), text);
    return home;
  };
  const tune = ['--hidden', '8', '--batch-size', '8', '--budget-ms', '100'];
  /** A cache folder whose webgpu-mlp/ is a regular file: the tuning cache cannot be made there (the driver's own caches can). */
  const folderIsAFile = (name: string) => {
    const home = join(dir, name);
    mkdirSync(home);
    writeFileSync(join(home, 'webgpu-mlp'), 'not a folder');
    return home;
  };

  it('JSON nested past any cache reads as a damaged cache (absent), at once, without overflowing the stack', () => {
    expect(nestingDepth('{"a":[1,{"b":"[[[{{"}],"c":"\\"["}')).toBe(3);
    const home = cacheHolding('deep-unit', deep(100_000));
    const path = join(home, 'webgpu-mlp', 'autotune.json');
    const started = performance.now();
    expect(readCacheJson(path, 1 << 20)).toBeUndefined();
    const store = fileTuneStore(path);
    expect(store.load('any')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
    // Saving overwrites the damage with a good cache.
    store.save('any', {});
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ any: {} });
    // Deep inside one entry, or a top level that is not an object of entries: damaged too.
    writeFileSync(path, JSON.stringify({ other: JSON.parse(deep(40)) }));
    expect(store.load('other')).toBeUndefined();
    writeFileSync(path, '[{"variant":1}]');
    expect(store.load('0')).toBeUndefined();
  });

  it('autotune over a cache of 100,000 nested arrays tunes, exits 0, and leaves a good cache', () => {
    const home = cacheHolding('deep-cli', deep(100_000));
    const r = run('autotune', tune, { ...process.env, XDG_CACHE_HOME: home });
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out).toMatch(/^autotune 5\/5: /m);
    const cache = JSON.parse(readFileSync(join(home, 'webgpu-mlp', 'autotune.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(cache)).toHaveLength(1);
  }, 120_000);

  it('autotune with a cache folder that cannot be made: one note on stderr, the choices printed, --json written, exit 0', () => {
    const home = folderIsAFile('autotune-cache-folder-is-a-file');
    const json = join(dir, 'tuned.json');
    const r = run('autotune', [...tune, '--json', json], { ...process.env, XDG_CACHE_HOME: home });
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.err, r.err.join('\n')).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^autotune: the tuning cache cannot be written \\(${escape(join(home, 'webgpu-mlp', 'autotune.json'))}: its folder cannot be made \\(EEXIST: .*\\)\\); this run uses the tuned choices, later runs tune again$`));
    expect(Object.keys((JSON.parse(readFileSync(json, 'utf8')) as { choices: object }).choices)).toHaveLength(5);
    expect(readFileSync(join(home, 'webgpu-mlp'), 'utf8')).toBe('not a folder');
  }, 120_000);

  it('autotune with a folder at autotune.json: it cannot be read (nor so rewritten), said in two notes; the run goes on', () => {
    const home = join(dir, 'cache-json-is-a-folder');
    mkdirSync(join(home, 'webgpu-mlp', 'autotune.json'), { recursive: true });
    const r = run('autotune', tune, { ...process.env, XDG_CACHE_HOME: home });
    expect(r.code, r.err.join('\n')).toBe(0);
    const path = escape(join(home, 'webgpu-mlp', 'autotune.json'));
    expect(r.err).toHaveLength(2);
    expect(r.err[0]).toMatch(new RegExp(`^autotune: the tuning cache cannot be read \\(${path}: is a directory, not a file\\); tuning without it$`));
    expect(r.err[1]).toMatch(new RegExp(`^autotune: the tuning cache cannot be written \\(${path}: is a directory, not a file\\); this run uses the tuned choices, later runs tune again$`));
  }, 120_000);

  it('the library: a store that throws on load and save costs the cache; autotuneVariants still returns its choices', async () => {
    const broken: TuneStore = {
      load: () => { throw new BadInputError('store.json: unreadable'); },
      save: () => { throw new BadInputError('store.json: read-only'); },
    };
    const notes: string[] = [];
    const tuned = await autotuneVariants(gpu.device, { architecture: mlpArchitecture([784, 8, 10]), batchSizes: [8], adapter: gpu.adapterInfo, store: broken, budgetMs: 100, warn: (l) => notes.push(l) });
    expect(notes).toEqual([
      'autotune: the tuning cache cannot be read (store.json: unreadable); tuning without it',
      'autotune: the tuning cache cannot be written (store.json: read-only); this run uses the tuned choices, later runs tune again',
    ]);
    const shapes = trainingMatmuls(mlpArchitecture([784, 8, 10]), 8).map(([form, shape]) => matmulShapeKey(form, shape));
    expect(shapes).toHaveLength(5);
    for (const shape of shapes) expect(tuned.matmulByShape?.[shape], shape).toBeDefined();
  }, 120_000);

  it('train --autotune with a cache folder that cannot be made trains to the end, with one note', () => {
    const home = folderIsAFile('train-cache-folder-is-a-file');
    const r = run('train', ['--autotune', '--epochs', '1', '--limit', '200', '--hidden', '8', '--batch-size', '8'], { ...process.env, XDG_CACHE_HOME: home });
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.err, r.err.join('\n')).toHaveLength(1);
    expect(r.err[0]).toMatch(/^autotune: the tuning cache cannot be written \(.*: its folder cannot be made \(EEXIST: .*\)\); this run uses the tuned choices, later runs tune again$/);
    expect(r.out).toMatch(/^test accuracy: /m);
  }, 180_000);
});
