// Augmentation: the written form, the GPU sampler against its float64 twin (border rows, large angles, CNN-shaped
// images), what keys the draws, an unbiased shift, training-only distortion, and bitwise resume with it on.
import { describe, expect, it } from 'vitest';
import { packBatchUniform, BATCH_UNIFORM_BYTES } from '../shaders/batchUniform.js';
import { UniformWords } from '../shaders/bindings.js';
import { augmentDispatches, elasticFieldBytes } from '../src/augment/gpu.js';
import { augmentImages as augmentImagesReference, augmentDraw, augmentImageBytes, elasticNoise } from '../src/augment/reference.js';
import { augmentedImageOf, checkAugmentation, formatAugmentation, parseAugmentation, type Augmentation, type ImageSize } from '../src/augment/spec.js';
import { sliceDataset } from '../src/data/dataset.js';
import { readBuffer, readFloats, storageBuffer, uniformBuffer } from '../src/gpu/buffers.js';
import { PipelineCache } from '../src/gpu/dispatch.js';
import { loadCheckpoint, saveCheckpoint } from '../src/engine/checkpoint.js';
import { decodeSafetensors } from '../src/data/safetensors.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { ResidentDataset } from '../src/engine/residentData.js';
import { packQuads, quadWords } from '../src/augment/quads.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { expectClose, openTestDevice, runDispatches, testOps, withErrorScope } from './helpers/gpu.js';
import { gpu as conv2dGpu } from '../src/layers/conv2d.js';
import { parseLayers } from '../src/layers/index.js';
import { mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();
const mnist = loadMnist();
const cache = new PipelineCache(gpu.device);

const FULL: Augmentation = { rotate: 12, scale: 0.12, shear: 0.1, shift: 2, elastic: { alpha: 34, sigma: 4 } };

describe('the written form', () => {
  it('round-trips, drops zero ranges, and reads none as no augmentation', () => {
    const text = 'rotate=12,scale=0.12,shear=0.1,shift=2,elastic=34:4';
    expect(parseAugmentation(text)).toEqual(FULL);
    expect(formatAugmentation(parseAugmentation(text))).toBe(text);
    expect(parseAugmentation('shift=3, rotate=0')).toEqual({ shift: 3 });
    expect(parseAugmentation('none')).toBeUndefined();
    expect(parseAugmentation('rotate=0,elastic=0:4')).toBeUndefined();
    expect(formatAugmentation(undefined)).toBe('none');
  });

  it.each([
    ['rotate=200', /--augment: rotate must be a number in \[0, 180\] degrees, got 200/],
    ['scale=1', /scale must be a number in \[0, 0\.95\]/],
    ['shift=-1', /shift must be a number in \[0, 64\] pixels, got '-1'$/],
    ['shift=0x10', /shift must be a number/],
    ['elastic=34', /elastic takes ALPHA:SIGMA \(elastic=34:4\), got '34'/],
    ['elastic=34:0', /elastic σ must be a number in \[0\.25, 16\] pixels, got 0/],
    ['twist=3', /unknown distortion 'twist' \(known: rotate, scale, shear, shift, elastic\)/],
    ['rotate', /'rotate' is not name=value/],
    ['shift=1,shift=2', /shift is given twice/],
  ])('refuses %j, naming the distortion and its range', (text, message) => {
    expect(() => parseAugmentation(text)).toThrow(message);
  });

  it('refuses images the sampler cannot address exactly, naming the size', () => {
    expect(() => augmentedImageOf([1, 2048, 2048], { rotate: 5 })).toThrow(/augment: distortion takes images of fewer than 4,194,304 pixels \(2²²\), the input is 2048×2048/);
    expect(augmentedImageOf([3, 2047, 2048], { rotate: 5 })).toEqual([3, 2047, 2048]);
  });

  it('checks library objects too', () => {
    expect(() => checkAugmentation({ rotate: Number.NaN })).toThrow(/rotate must be a number in \[0, 180\] degrees, got NaN$/);
    expect(() => checkAugmentation({ spin: 2 } as Augmentation)).toThrow(/unknown distortion 'spin'/);
  });
});

/** Runs augmentation once on `rows` u8 images (capacity ≥ rows) and returns the f32 batch (or the u8 one). */
async function gpuAugment(pixels: Uint8Array, rows: number, capacity: number, image: ImageSize, a: Augmentation, key: { seed: number; step: number }, scale = 1, shift = 0, source: Source = 'batch'): Promise<Float32Array> {
  return new Float32Array(await gpuAugmentAs('f32', pixels, rows, capacity, image, a, key, scale, shift, source));
}

async function gpuAugmentBytes(pixels: Uint8Array, rows: number, capacity: number, image: ImageSize, a: Augmentation, key: { seed: number; step: number }, source: Source = 'batch'): Promise<Uint8Array> {
  return new Uint8Array(await gpuAugmentAs('u8', pixels, rows, capacity, image, a, key, 1, 0, source));
}

/** Where the sampler reads: an uploaded batch of bytes, or a data set kept in GPU memory as quads (identity order). */
type Source = 'batch' | 'dataset';

async function gpuAugmentAs(
  form: 'u8' | 'f32', pixels: Uint8Array, rows: number, capacity: number, image: ImageSize, a: Augmentation, key: { seed: number; step: number }, scale = 1, shift = 0,
  source: Source = 'batch',
): Promise<ArrayBuffer> {
  const F = image[0] * image[1] * image[2];
  const device = gpu.device;
  const input = storageBuffer(device, Math.ceil((capacity * F) / 4) * 4, 'pixels');
  const padded = new Uint8Array(input.size);
  padded.set(pixels.subarray(0, rows * F));
  padded.fill(200, rows * F); // rows past the batch hold junk, which must not show
  device.queue.writeBuffer(input, 0, padded);
  const resident = source === 'dataset'
    ? new ResidentDataset(device, { name: 'set', images: pixels.subarray(0, rows * F), labels: new Uint8Array(rows), count: rows, features: F }, image)
    : undefined;
  resident?.writeOrder(Uint32Array.from({ length: rows }, (_, i) => i));
  const output = storageBuffer(device, capacity * F * (form === 'u8' ? 1 : 4), 'augmented');
  device.queue.writeBuffer(output, 0, new Uint8Array(output.size).fill(7));
  const batch = uniformBuffer(device, BATCH_UNIFORM_BYTES, 'batch');
  // The fields start as junk too: rows past the batch must not read them.
  const fields = [0, 1].map(() => storageBuffer(device, elasticFieldBytes(capacity, image), 'elastic field'));
  for (const f of fields) device.queue.writeBuffer(f, 0, new Float32Array(f.size / 4).fill(1e6));
  device.queue.writeBuffer(batch, 0, packBatchUniform(new UniformWords(BATCH_UNIFORM_BYTES), { rows, ...key }));
  const result = await withErrorScope(device, async () => {
    const read = resident ? { input: { buffer: resident.images }, order: { buffer: resident.order } } : { input: { buffer: input } };
    const buffers = { ...read, output: { buffer: output }, batch: { buffer: batch }, elastic: { blurred: { buffer: fields[0] }, displacement: { buffer: fields[1] } } };
    await runDispatches(device, augmentDispatches(cache, buffers, capacity, image, a, { pixelScale: scale, pixelShift: shift }, form));
    return (await readBuffer(device, output)).slice(0, capacity * F * (form === 'u8' ? 1 : 4)); // not the buffer's padding
  });
  for (const b of [input, output, batch, ...fields]) b.destroy();
  resident?.destroy();
  return result;
}

function twin(pixels: Uint8Array, rows: number, image: ImageSize, a: Augmentation, key: { seed: number; step: number }, scale = 1, shift = 0): Float64Array {
  const out = new Float64Array(rows * image[0] * image[1] * image[2]);
  augmentImagesReference(out, pixels, rows, image, a, key, scale, shift);
  return out;
}

/** Deterministic u8 images with edges everywhere, including along the border. */
function noisyImages(count: number, F: number): Uint8Array {
  const out = new Uint8Array(count * F);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('augmentImages against its float64 twin', () => {
  const digits = mnist.train.images.subarray(0, 300 * 784);

  it('zero ranges give, bit for bit, the pixels the first layer reads undistorted', async () => {
    const [scale, shift] = [1 / 0.3081, -0.1307 / 0.3081];
    const got = await gpuAugment(digits, 37, 40, [1, 28, 28], {}, { seed: 3, step: 9 }, scale, shift);
    // A 1×1 convolution's columns are the pixels as a first layer reads them (shaders/image.ts, pixelRead).
    const device = gpu.device;
    const input = storageBuffer(device, 37 * 784, 'pixels');
    device.queue.writeBuffer(input, 0, Uint8Array.from(digits.subarray(0, 37 * 784)));
    const columns = storageBuffer(device, 37 * 784 * 4, 'columns');
    const g = { batch: 37, channels: 1, height: 28, width: 28, outChannels: 1, kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0 };
    await runDispatches(device, [conv2dGpu.conv2dColumns(testOps(device), { buffer: columns }, { buffer: input }, g, { pixelScale: scale, pixelShift: shift })]);
    const read = await readFloats(device, columns);
    input.destroy();
    columns.destroy();
    expect(Array.from(got.subarray(0, 37 * 784))).toEqual(Array.from(read));
    expect(got.subarray(37 * 784).every((v) => v === 0), 'rows past the batch are zero').toBe(true);
  });

  // Uploaded batches take augmentImages reading bytes; a data set kept as quads takes augmentLines.
  it.each([
    ['every distortion, 300 digits', [1, 28, 28] as ImageSize, FULL],
    ['large angles and shears, strong shifts (rows pushed over the border)', [1, 28, 28] as ImageSize, { rotate: 180, shear: 0.8, scale: 0.5, shift: 9 }],
    ['elastic alone, strong', [1, 28, 28] as ImageSize, { elastic: { alpha: 60, sigma: 2.5 } }],
  ].flatMap(([name, image, a]) => (['batch', 'dataset'] as const).map((source) => [`${name}, from the ${source}`, image, a, source] as const)))('%s: within 1e-5 per pixel', async (_, image, a, source) => {
    const key = { seed: 7, step: 123 };
    const got = await gpuAugment(digits, 300, 302, image as ImageSize, a as Augmentation, key, 1, 0, source);
    expectClose(got.subarray(0, 300 * 784), twin(digits, 300, image as ImageSize, a as Augmentation, key), 1e-5, 0, `augment from the ${source}`);
    expect(got.subarray(300 * 784).every((v) => v === 0), 'rows past the batch are zero').toBe(true);
  });

  it('a sample on the far edge of a data set\'s last image reads zeros past its quads (shift pushes every row over the border)', async () => {
    const white = new Uint8Array(3 * 784).fill(255);
    const a = { shift: 30 };
    for (const step of [1, 2, 3]) {
      const got = await gpuAugment(white, 3, 3, [1, 28, 28], a, { seed: 2, step }, 1, 0, 'dataset');
      expectClose(got, twin(white, 3, [1, 28, 28], a, { seed: 2, step }), 1e-5, 0, 'far edge');
    }
  });

  it.each(['batch', 'dataset'] as const)('the u8 form that training reads is the twin rounded to the nearest byte; zero ranges give the input bytes (from the %s)', async (source) => {
    const key = { seed: 7, step: 123 };
    const got = await gpuAugmentBytes(digits, 300, 304, [1, 28, 28], FULL, key, source);
    const want = twin(digits, 300, [1, 28, 28], FULL, key);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - 255 * Math.min(Math.max(want[i], 0), 1)));
    expect(worst, 'half a level, plus the f32 form\'s 1e-5').toBeLessThanOrEqual(0.5 + 255e-5);
    const rounded = new Uint8Array(want.length);
    augmentImageBytes(rounded, digits, 300, [1, 28, 28], FULL, key);
    expect(rounded.filter((v, i) => v === got[i]).length / rounded.length, 'only ties may round apart').toBeGreaterThan(0.999);
    expect(got.subarray(300 * 784).every((v) => v === 0), 'rows past the batch are zero').toBe(true);
    const identity = await gpuAugmentBytes(digits, 37, 40, [1, 28, 28], {}, key, source);
    expect(Array.from(identity.subarray(0, 37 * 784))).toEqual(Array.from(digits.subarray(0, 37 * 784)));
  });

  // 3×13×11 as f32 takes augmentLines from quads; 3×20×45 (lines of 135 samples, over MAX_LINE_SAMPLES) and
  // 1×4×7 as u8 (lines of 7 bytes, not whole words) take augmentImages reading quads.
  it.each([
    [[3, 13, 11], 'f32', 'batch'], [[3, 13, 11], 'f32', 'dataset'], [[3, 20, 45], 'u8', 'dataset'], [[3, 20, 45], 'f32', 'dataset'], [[1, 4, 7], 'u8', 'dataset'],
  ] as const)('odd CNN-shaped images %j as %s, noise to the border, from the %s: within 1e-5 · scale of the twin', async (shape, form, source) => {
    const image: ImageSize = [...shape];
    const F = image[0] * image[1] * image[2];
    const pixels = noisyImages(37, F);
    const key = { seed: 1, step: 2 };
    const a: Augmentation = { ...FULL, elastic: { alpha: 20, sigma: 2 } };
    const [scale, shift] = form === 'f32' ? [1 / 0.3081, -0.1307 / 0.3081] : [1, 0];
    const want = twin(pixels, 37, image, a, key, scale, shift);
    if (form === 'f32') {
      const got = await gpuAugment(pixels, 37, 41, image, a, key, scale, shift, source);
      expectClose(got.subarray(0, 37 * F), want, 1e-5 * scale, 0, `augment ${image.join('×')}`);
      expect(got.subarray(37 * F).every((v) => v === 0)).toBe(true);
    } else {
      const got = await gpuAugmentBytes(pixels, 37, 41, image, a, key, source);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - 255 * Math.min(Math.max(want[i], 0), 1)));
      expect(worst, 'half a level, plus the f32 form\'s 1e-5').toBeLessThanOrEqual(0.5 + 255e-5);
      expect(got.subarray(37 * F).every((v) => v === 0)).toBe(true);
    }
  });

  it('quads hold each cell\'s four pixels, zero outside the image, and the padding the far corner reads', () => {
    const image: ImageSize = [2, 2, 3]; // channels-last: pixel (x, y) channel c at (y · 3 + x) · 2 + c
    const pixels = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
    const out = new Uint32Array(quadWords(1, image)).fill(0xdeadbeef);
    packQuads(out, pixels, 0, 1, image);
    const px = (x: number, y: number, c: number) => (x < 0 || y < 0 || x >= 3 || y >= 2 ? 0 : pixels[(y * 3 + x) * 2 + c]);
    for (let y0 = -1; y0 < 2; y0++) {
      for (let x0 = -1; x0 < 3; x0++) {
        for (let c = 0; c < 2; c++) {
          const word = out[((y0 + 1) * 4 + x0 + 1) * 2 + c];
          expect([word & 255, (word >>> 8) & 255, (word >>> 16) & 255, word >>> 24]).toEqual([px(x0, y0, c), px(x0 + 1, y0, c), px(x0, y0 + 1, c), px(x0 + 1, y0 + 1, c)]);
        }
      }
    }
    expect(out.length).toBe(3 * 4 * 2 + (3 + 2) * 2);
    expect(out.subarray(24).every((w) => w === 0xdeadbeef), 'packQuads leaves the padding (zero in a new GPU buffer)').toBe(true);
  });

  it('the same (seed, step, row) gives the same image; another step, seed or row another', async () => {
    const two = new Uint8Array(2 * 784);
    two.set(digits.subarray(0, 784));
    two.set(digits.subarray(0, 784), 784); // the same digit in rows 0 and 1
    const a = await gpuAugment(two, 2, 2, [1, 28, 28], FULL, { seed: 5, step: 10 });
    const again = await gpuAugment(two, 2, 2, [1, 28, 28], FULL, { seed: 5, step: 10 });
    const nextStep = await gpuAugment(two, 2, 2, [1, 28, 28], FULL, { seed: 5, step: 11 });
    const otherSeed = await gpuAugment(two, 2, 2, [1, 28, 28], FULL, { seed: 6, step: 10 });
    expect(Array.from(again)).toEqual(Array.from(a));
    const differs = (x: Float32Array, y: Float32Array, from: number, to: number) => x.subarray(from, to).some((v, i) => v !== y[from + i]);
    expect(differs(a, nextStep, 0, 784)).toBe(true);
    expect(differs(a, otherSeed, 0, 784)).toBe(true);
    expect(differs(a, a, 0, 784)).toBe(false);
    expect(a.subarray(0, 784).some((v, i) => v !== a[784 + i]), 'row 1 is distorted apart from row 0').toBe(true);
  });

  it('draws are uniform on [−1, 1) and do not depend on the order they are asked in', () => {
    const key = { seed: 0, step: 1 };
    const draws = Array.from({ length: 20000 }, (_, i) => augmentDraw(key, i % 100, Math.floor(i / 100)));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(Math.abs(mean)).toBeLessThan(3 * Math.sqrt(1 / 3 / draws.length));
    expect(augmentDraw(key, 4, 17)).toBe(draws[17 * 100 + 4]);
  });

  it('elastic noise pairs (two draws from one hash) are uniform, centred and uncorrelated', () => {
    const key = { seed: 5, step: 2 };
    const pairs = Array.from({ length: 20000 }, (_, i) => elasticNoise(key, i % 50, Math.floor(i / 50)));
    const bound = 3 * Math.sqrt(1 / 3 / pairs.length);
    for (const axis of [0, 1]) {
      const v = pairs.map((p) => p[axis]);
      // The centres of a 2⁻¹⁵ grid over [−1, 1), so the mean is 0, not −2⁻¹⁶.
      const cells = v.map((x) => (x + 1) * 2 ** 15 - 0.5);
      expect(cells.every((c) => Number.isInteger(c) && c >= 0 && c < 2 ** 16)).toBe(true);
      expect(Math.abs(v.reduce((s, x) => s + x, 0) / v.length)).toBeLessThan(bound);
    }
    // E[x·y] = 0 for independent halves; its standard error is (1/3) / √n.
    expect(Math.abs(pairs.reduce((s, [x, y]) => s + x * y, 0) / pairs.length)).toBeLessThan(3 * (1 / 3) / Math.sqrt(pairs.length));
  });

  it('the mean shift of the digits is zero within its standard error', async () => {
    const rows = 1000;
    const pixels = mnist.train.images.subarray(0, rows * 784);
    const got = await gpuAugment(pixels, rows, rows, [1, 28, 28], FULL, { seed: 11, step: 1 });
    const centroid = (v: ArrayLike<number>, at: number) => {
      let [m, x, y] = [0, 0, 0];
      for (let i = 0; i < 784; i++) { m += v[at + i]; x += v[at + i] * (i % 28); y += v[at + i] * Math.floor(i / 28); }
      return [x / m, y / m];
    };
    const shifts = [[] as number[], [] as number[]];
    for (let r = 0; r < rows; r++) {
      const [a, b] = [centroid(got, r * 784), centroid(pixels, r * 784)];
      shifts[0].push(a[0] - b[0] * 1);
      shifts[1].push(a[1] - b[1]);
    }
    for (const axis of shifts) {
      const mean = axis.reduce((s, x) => s + x, 0) / rows;
      const sd = Math.sqrt(axis.reduce((s, x) => s + (x - mean) ** 2, 0) / (rows - 1));
      expect(sd, 'the digits do move').toBeGreaterThan(0.5);
      expect(Math.abs(mean), `mean shift ${mean} with standard error ${sd / Math.sqrt(rows)}`).toBeLessThan(3 * sd / Math.sqrt(rows));
    }
  });
});

describe('gathered and distorted in one pass', () => {
  // A batch gathered from the data set's quads: affine maps give the uploaded rows' distortion (the same
  // arithmetic, one load for four; as u8, quads read bytes with unpack4x8unorm, rows by shifting them out, which may
  // round a tie apart); with an elastic field the blurs run in the other order, so the images agree to f32 rounding.
  it.each([
    ['u8', [1, 28, 28], { rotate: 12, scale: 0.12, shear: 0.1, shift: 2 }], ['f32', [3, 13, 11], { rotate: 12, scale: 0.12, shear: 0.1, shift: 2 }],
    ['f32', [1, 28, 28], FULL], ['f32', [3, 13, 11], FULL],
  ] as const)('reading images order[start + r] of a data set kept as quads (%s, %j, %j)', async (form, shape, a) => {
    const [rows, capacity, count, start] = [23, 26, 90, 41];
    const image: ImageSize = [...shape];
    const F = image[0] * image[1] * image[2];
    const data = { name: 'set', images: noisyImages(count, F), labels: Uint8Array.from({ length: count }, (_, i) => (i * 7) % 10), count, features: F };
    const order = Uint32Array.from({ length: count }, (_, i) => (i * 37 + 11) % count); // 37 is prime to 90: a permutation
    const key = { seed: 4, step: 6 };
    const batchRows = new Uint8Array(rows * F);
    for (let r = 0; r < rows; r++) batchRows.set(data.images.subarray(order[start + r] * F, (order[start + r] + 1) * F), r * F);
    const want = await gpuAugmentAs(form, batchRows, rows, capacity, image, a, key, 1.5, -0.25);

    const device = gpu.device;
    const resident = new ResidentDataset(device, data, image);
    resident.writeOrder(order);
    const output = storageBuffer(device, capacity * F * (form === 'u8' ? 1 : 4), 'augmented');
    device.queue.writeBuffer(output, 0, new Uint8Array(output.size).fill(7));
    const labels = storageBuffer(device, capacity * 4, 'batch labels');
    const batch = uniformBuffer(device, BATCH_UNIFORM_BYTES, 'batch');
    device.queue.writeBuffer(batch, 0, packBatchUniform(new UniformWords(BATCH_UNIFORM_BYTES), { rows, start, ...key }));
    const fields = [0, 1].map(() => storageBuffer(device, elasticFieldBytes(capacity, image), 'elastic field'));
    const [got, gotLabels] = await withErrorScope(device, async () => {
      const buffers = { input: { buffer: resident.images }, order: { buffer: resident.order }, output: { buffer: output }, batch: { buffer: batch }, elastic: { blurred: { buffer: fields[0] }, displacement: { buffer: fields[1] } } };
      await runDispatches(device, [
        testOps(device).gatherLabels({ buffer: labels }, { buffer: resident.labels }, { buffer: resident.order }, { buffer: batch }, capacity),
        ...augmentDispatches(cache, buffers, capacity, image, a, { pixelScale: 1.5, pixelShift: -0.25 }, form),
      ]);
      return [await readBuffer(device, output), await readBuffer(device, labels)];
    });
    for (const b of [output, labels, batch, ...fields]) b.destroy();
    resident.destroy();
    const bytes = capacity * F * (form === 'u8' ? 1 : 4); // buffers are padded past that
    // Each within 1e-5 · 1.5 (the pixel scale) of the twin.
    if ((a as Augmentation).elastic) expectClose(new Float32Array(got, 0, capacity * F), new Float32Array(want, 0, capacity * F), 3e-5, 0, 'quads against rows');
    else if (form === 'f32') expect(new Uint8Array(got, 0, bytes)).toEqual(new Uint8Array(want, 0, bytes));
    else {
      const [g, w] = [new Uint8Array(got, 0, bytes), new Uint8Array(want, 0, bytes)];
      expect(g.every((v, i) => Math.abs(v - w[i]) <= 1)).toBe(true);
      expect(g.filter((v, i) => v !== w[i]).length, 'only ties may round apart').toBeLessThanOrEqual(bytes / 1000);
    }
    expect(Array.from(new Uint32Array(gotLabels, 0, capacity))).toEqual(Array.from({ length: capacity }, (_, r) => (r < rows ? data.labels[order[start + r]] : 0)));
  });
});

describe('augmentation in training', () => {
  const train = sliceDataset(mnist.train, 0, 256, 'train');
  const validation = sliceDataset(mnist.train, 256, 200, 'validation');
  const fit = { batchSize: 64, optimizer: { kind: 'adam' as const, lr: 1e-3 }, augment: FULL };

  it('distorts training batches only: validation, evaluate and predict read the images as they are', async () => {
    const model = new Model(gpu.device, { layers: parseLayers('conv2d:4:k=5,relu,maxpool2d:2,flatten,linear:10'), seed: 3 });
    const history = await model.fit(train, { ...fit, epochs: 2, validation });
    const internals = modelInternals(model);
    const plan = internals.plan('train', 64, FULL);
    expect(plan.batchInput.map((d) => d.label)).toEqual(['elasticRows 64×28×28', 'elasticColumns 64×28×28', 'augmentImages 64×1×28×28 u8']);
    const [quads, rows] = [new ResidentDataset(gpu.device, train, [1, 28, 28]), new ResidentDataset(gpu.device, train)];
    expect(plan.gatherFrom(quads).map((d) => d.label)).toEqual(['gatherLabels 64', 'elasticNoiseColumns 64×28×28', 'augmentLines 64×1×28×28 u8 from the data set']);
    expect(() => plan.gatherFrom(rows)).toThrow(/gatherFrom: train is kept as rows, the plan reads quads of 1×28×28/);
    for (const other of [internals.plan('train', 64), internals.plan('evaluate', 200, FULL)]) {
      expect([...other.batchInput, ...other.forward].some((d) => d.label.startsWith('augment')), 'plain and evaluation plans never distort').toBe(false);
    }
    expect(internals.plan('train', 64).gatherFrom(rows).map((d) => d.label)).toEqual(['gatherBatch 64×784']);
    quads.destroy();
    rows.destroy();
    const last = history.at(-1)!.validation!;
    expect(await model.evaluate(validation)).toEqual(last);
    expect(model.recipe?.augment).toEqual(FULL);
    model.dispose();
  });

  it('an MLP on flat pixels distorts them as 28 × 28 images; f32 features and non-square inputs are refused', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([784, 16, 10]), seed: 1 });
    await model.fit(sliceDataset(train, 0, 64), { ...fit, epochs: 1 });
    expect(modelInternals(model).plan('train', 64, FULL).batchInput[2].label).toBe('augmentImages 64×1×28×28 u8');
    model.dispose();
    const flat = new Model(gpu.device, { ...mlpOptions([4, 3]), input: 'f32', seed: 1 });
    const rows = { name: 'rows', images: new Float32Array(8), labels: Uint8Array.from([0, 1]), count: 2, features: 4 };
    await expect(flat.fit(rows, { ...fit, epochs: 1 })).rejects.toThrow(/augment distorts u8 image pixels; this model takes f32 features/);
    flat.dispose();
    const odd = new Model(gpu.device, { ...mlpOptions([10, 3]), seed: 1 });
    const bytes = { name: 'bytes', images: new Uint8Array(20), labels: Uint8Array.from([0, 1]), count: 2, features: 10 };
    await expect(odd.fit(bytes, { ...fit, epochs: 1 })).rejects.toThrow(/the model's input is 10 features, not a square image/);
    odd.dispose();
  });

  it('resume from a full checkpoint ends bit for bit where the uninterrupted run ends, keeping the augmentation', async () => {
    const options = { layers: parseLayers('linear:20,relu,dropout:0.2,linear:10'), seed: 5 };
    const straight = new Model(gpu.device, options);
    await straight.fit(train, { ...fit, epochs: 2 });
    const first = new Model(gpu.device, options);
    await first.fit(train, { ...fit, epochs: 1 });
    const checkpoint = await saveCheckpoint(first, { full: true });
    first.dispose();
    expect(decodeSafetensors(checkpoint, 'ckpt').metadata.augment).toBe('rotate=12,scale=0.12,shear=0.1,shift=2,elastic=34:4');
    const resumed = new Model(gpu.device, { ...options, seed: 99 });
    loadCheckpoint(resumed, checkpoint, 'ckpt.safetensors');
    expect(resumed.recipe?.augment).toEqual(FULL);
    await resumed.fit(train, { ...fit, augment: resumed.recipe!.augment, epochs: 1 });
    expect(await resumed.getParams()).toEqual(await straight.getParams());
    // And the distortions matter: without them the same run ends elsewhere.
    const plain = new Model(gpu.device, options);
    await plain.fit(train, { ...fit, augment: undefined, epochs: 2 });
    expect(await plain.getParams()).not.toEqual(await straight.getParams());
    for (const m of [straight, resumed, plain]) m.dispose();
  });

  it('a fit told not to keep the set in GPU memory distorts uploaded bytes, and trains as the quads do', async () => {
    const options = { layers: parseLayers('linear:20,relu,linear:10'), seed: 5 };
    const [quads, uploaded] = [new Model(gpu.device, options), new Model(gpu.device, options)];
    await quads.fit(train, { ...fit, epochs: 1 });
    await uploaded.fit(train, { ...fit, epochs: 1, gpuResidentData: false });
    // Other kernels ran (the checkpoint's digest is of the step that ran) ...
    const digest = async (m: Model) => decodeSafetensors(await saveCheckpoint(m, { full: true }), 'ckpt').metadata.kernels;
    expect(await digest(quads)).not.toBe(await digest(uploaded));
    // ... and, on these digits, the same bytes: the elastic blurs run in the other order, which moves a sample by
    // about 1e-7 of a level, so a byte could differ only at a tie.
    expect(await quads.getParams()).toEqual(await uploaded.getParams());
    for (const m of [quads, uploaded]) m.dispose();
  });

  it("a set whose quads pass the device's storage binding limit (WebGPU's default 128 MiB) takes the uploaded path, to the same weights", async () => {
    const plain = await openTestDevice({ defaultLimits: true });
    const limit = plain.device.limits.maxStorageBufferBindingSize;
    const mnist = loadMnist();
    // 29 × 29 quads of 4 bytes per 28 × 28 digit: the smallest count past the limit as quads, 4× under it as bytes.
    const count = Math.floor(limit / (29 * 29 * 4)) + 1;
    const big = sliceDataset(mnist.train, 0, count, 'train');
    expect(ResidentDataset.fits(plain.device, big, [1, 28, 28])).toBe(false);
    expect(ResidentDataset.fits(plain.device, big)).toBe(true);
    const options = { layers: parseLayers('linear:20,relu,linear:10'), seed: 5 };
    const [unfit, uploaded] = [new Model(plain.device, options), new Model(plain.device, options)];
    // Twelve steps each: the first fit would keep the set as quads if it fitted.
    let steps = 0;
    await unfit.fit(big, { ...fit, epochs: 1, shouldStop: () => steps++ === 12 });
    steps = 0;
    await uploaded.fit(big, { ...fit, epochs: 1, gpuResidentData: false, shouldStop: () => steps++ === 12 });
    // The same kernels ran (the checkpoint's digest is of the step that ran), to the same weights.
    const digest = async (m: Model) => decodeSafetensors(await saveCheckpoint(m, { full: true }), 'ckpt').metadata.kernels;
    expect(await digest(unfit)).toBe(await digest(uploaded));
    expect(await unfit.getParams()).toEqual(await uploaded.getParams());
    for (const m of [unfit, uploaded]) m.dispose();
  });
});
