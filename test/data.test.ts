// Data sets from the user's own data: typed arrays (hwc and chw), page images through the RGBA conversion, CSV
// and IDX files, the seeded split; every refusal by name; a short training on an array-built set, and the CLI's
// --data FILE.csv end to end.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../src/errors.js';
import { chwToHwc, datasetFromArrays, type ArrayDatasetOptions } from '../src/data/arrays.js';
import { splitDataset } from '../src/data/split.js';
import { standardizeFeatures } from '../src/data/standardize.js';
import { rgbaToRow } from '../src/data/pixels.js';
import { datasetFromImages, imageToRow } from '../src/data/pageImages.js';
import { csvDataset, parseCsvRecords } from '../src/data/csv.js';
import { irisDataset, IRIS_CLASSES } from '../src/data/iris.js';
import { readCsvDataset, readIdxDataset } from '../src/node/dataFiles.js';
import type { Inputs } from '../src/data/dataset.js';
import { Random } from '../src/gpu/random.js';
import { Model } from '../src/engine/model.js';
import { openTestDevice } from './helpers/gpu.js';
import { spawnWithStderrFile } from './helpers/stderr.js';
import { mlpOptions } from './helpers/model.js';

const dir = mkdtempSync(join(tmpdir(), 'data-'));

/** Expects a BadInputError whose message matches. */
function refuses(build: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    build();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a refusal matching ${message}`).toBeInstanceOf(BadInputError);
  expect((error as Error).message).toMatch(message);
}

describe('datasetFromArrays', () => {
  it('takes f32 features with class labels, as they are', () => {
    const inputs = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const set = datasetFromArrays({ name: 'tab', inputs, shape: 3, labels: [1, 0], classes: 2 });
    expect(set).toMatchObject({ name: 'tab', count: 2, features: 3 });
    expect(set.images).toBe(inputs);
    expect(Array.from(set.labels)).toEqual([1, 0]);
    expect(set.targets).toBeUndefined();
  });

  it('takes float targets as rows or as a Float32Array with its width, and labels wider than u8', () => {
    const rows = datasetFromArrays({ inputs: new Float32Array(4), shape: 2, targets: [[0.5, 1, -2], [3, 4, 5]] });
    expect(rows.targets!.width).toBe(3);
    expect(Array.from(rows.targets!.values)).toEqual([0.5, 1, -2, 3, 4, 5]);
    expect(rows.labels.length).toBe(0);
    const flat = datasetFromArrays({ inputs: new Float32Array(4), shape: 2, targets: Float32Array.from([1, 2]), targetWidth: 1 });
    expect(flat.targets).toEqual({ values: Float32Array.from([1, 2]), width: 1 });
    const many = datasetFromArrays({ inputs: new Uint8Array(2), shape: 1, labels: Int32Array.from([999, 3]), classes: 1000 });
    expect(many.labels).toBeInstanceOf(Uint16Array);
    expect(Array.from(many.labels)).toEqual([999, 3]);
  });

  it("keeps 'hwc' images as they are and converts 'chw' ones, checked against a hand-made case", () => {
    // Two 2-channel 2×3 images, channels-first: image n, channel c, pixel p holds 100n + 10c + p.
    const chw = Uint8Array.from({ length: 2 * 2 * 6 }, (_, i) => 100 * Math.floor(i / 12) + 10 * Math.floor((i % 12) / 6) + (i % 6));
    const hwc = [0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15, 100, 110, 101, 111, 102, 112, 103, 113, 104, 114, 105, 115];
    const set = datasetFromArrays({ inputs: chw, shape: [2, 2, 3], layout: 'chw', labels: [0, 1], classes: 2 });
    expect(Array.from(set.images)).toEqual(hwc);
    expect(set.features).toBe(12);
    expect(Array.from(chwToHwc(Float32Array.from(chw), [2, 2, 3], 2))).toEqual(hwc);
    const same = datasetFromArrays({ inputs: chw, shape: [2, 2, 3], layout: 'hwc', labels: [0, 1], classes: 2 });
    expect(same.images).toBe(chw);
  });

  const base: ArrayDatasetOptions<Inputs> = { name: 'mine', inputs: new Float32Array(6), shape: 3, labels: [0, 1], classes: 2 };
  it.each<[string, Partial<ArrayDatasetOptions<Inputs>>, RegExp]>([
    ['plain-array inputs', { inputs: [1, 2, 3] as unknown as Float32Array }, /^mine: inputs are a plain array; give u8 pixels \(a Uint8Array\) or f32 features/],
    ['u16 inputs', { inputs: new Uint16Array(6) as unknown as Uint8Array }, /^mine: inputs are a Uint16Array/],
    ['a bad shape', { shape: [2, 3] as unknown as number }, /^mine: shape must be a positive integer width or \[channels, height, width\], got \[2,3\]/],
    ['a zero width', { shape: 0 }, /^mine: shape must be .* got 0/],
    ['an image without a layout', { shape: [3, 1, 1] }, /^mine: an image shape \[3, 1, 1\] needs layout 'hwc' \(channels-last\) or 'chw' \(channels-first\), got undefined/],
    ['an unknown layout', { shape: [3, 1, 1], layout: 'nhwc' as 'hwc' }, /^mine: an image shape .* got "nhwc"/],
    ['a layout for a width', { layout: 'hwc' }, /^mine: layout 'hwc' is for image shapes/],
    ['a length that is not whole rows', { inputs: new Float32Array(7) }, /^mine: inputs hold 7 values, not a whole number of rows of 3$/],
    ['a count that disagrees', { count: 3 }, /^mine: inputs hold 6 values, not a whole number of rows of 3 \(count 3 needs 9\)/],
    ['a non-finite feature', { inputs: Float32Array.from([0, 0, 0, 0, NaN, 0]) }, /^mine: feature 1 of row 1 is NaN, not a finite number/],
    ['float labels', { labels: Float32Array.from([0, 1]) as unknown as number[] }, /^mine: labels are a Float32Array; give class indices as an integer typed array or number\[\]/],
    ['labels without classes', { classes: undefined }, /^mine: labels need classes, the class count \(an integer ≥ 2\), got undefined/],
    ['a label out of range', { labels: [0, 2] }, /^mine: label 2 at row 1 is not a class index in 0\.\.1/],
    ['a non-integer label', { labels: [0.5, 1] }, /^mine: label 0\.5 at row 0 is not a class index/],
    ['a negative label', { labels: Int8Array.from([0, -1]) }, /^mine: label -1 at row 1/],
    ['too few labels', { labels: [0] }, /^mine: 1 labels for 2 rows/],
    ['both labels and targets', { targets: [[1], [2]] }, /^mine: give labels or targets, not both/],
    ['neither', { labels: undefined, classes: undefined }, /^mine: give labels \(with classes\) or targets/],
    ['classes with targets', { labels: undefined, targets: [[1], [2]] }, /^mine: classes goes with labels/],
    ['flat targets without a width', { labels: undefined, classes: undefined, targets: new Float32Array(2) }, /^mine: targets as a Float32Array need targetWidth/],
    ['flat targets of the wrong length', { labels: undefined, classes: undefined, targets: new Float32Array(5), targetWidth: 2 }, /^mine: 5 target values for 2 rows × 2 targets/],
    ['ragged target rows', { labels: undefined, classes: undefined, targets: [[1, 2], [3]] }, /^mine: target row 1 has 1 values, row 0 has 2/],
    ['a width that disagrees with the rows', { labels: undefined, classes: undefined, targets: [[1], [2]], targetWidth: 2 }, /^mine: targetWidth is 2 but the target rows have 1 values/],
    ['a non-finite target', { labels: undefined, classes: undefined, targets: [[1], [Infinity]] }, /^mine: target 0 of row 1 is Infinity, not a finite number/],
  ])('refuses %s by name', (_, change, message) => {
    refuses(() => datasetFromArrays({ ...base, ...change }), message);
  });
});

describe('splitDataset', () => {
  // Row i holds the value i, so each part shows which rows it took.
  const rows = (n: number) => datasetFromArrays({ name: 'rows', inputs: Float32Array.from({ length: n }, (_, i) => i), shape: 1, targets: Array.from({ length: n }, (_, i) => [i, -i]) });
  const ids = (d: { images: Inputs }) => Array.from(d.images);

  it('is disjoint and complete, sized by fractions or counts, and carries targets', () => {
    const { train, validation, test } = splitDataset(rows(50), { validation: 0.1, test: 12, seed: 7 });
    expect([train.count, validation.count, test.count]).toEqual([33, 5, 12]);
    const all = [...ids(train), ...ids(validation), ...ids(test)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (const part of [train, validation, test]) {
      expect(ids(part)).toEqual([...ids(part)].sort((a, b) => a - b)); // original order kept within a part
      expect(Array.from(part.targets!.values)).toEqual(ids(part).flatMap((i) => [i, -i]));
    }
    expect([train.name, validation.name, test.name]).toEqual(['rows train', 'rows validation', 'rows test']);
  });

  it('is the same for a seed and differs between seeds; u8 sets with labels too', () => {
    const a = splitDataset(rows(40), { test: 0.25, seed: 1 });
    const b = splitDataset(rows(40), { test: 0.25, seed: 1 });
    const c = splitDataset(rows(40), { test: 0.25, seed: 2 });
    expect(ids(a.test)).toEqual(ids(b.test));
    expect(ids(a.test)).not.toEqual(ids(c.test));
    expect(a.validation.count).toBe(0);
    const bytes = datasetFromArrays({ inputs: Uint8Array.from({ length: 20 }, (_, i) => i), shape: 2, labels: Array.from({ length: 10 }, (_, i) => i % 3), classes: 3 });
    const s = splitDataset(bytes, { validation: 3, seed: 0 });
    expect(s.train.images).toBeInstanceOf(Uint8Array);
    for (const part of [s.train, s.validation]) {
      part.labels.forEach((label, r) => expect(label).toBe((part.images[2 * r] / 2) % 3));
    }
  });

  it('standardizing a part keeps its targets', () => {
    const { train } = splitDataset(rows(20), { test: 5, seed: 3 });
    const standardized = standardizeFeatures(train);
    expect(standardized.targets).toEqual(train.targets);
    expect(Math.abs(Array.from(standardized.images).reduce((a, b) => a + b, 0))).toBeLessThan(1e-4);
  });

  it('refuses sizes that leave nothing to train on, or are neither fraction nor count', () => {
    refuses(() => splitDataset(rows(10), { validation: 5, test: 0.5 }), /^rows: 5 validation \+ 5 test rows leave none of its 10 to train on/);
    refuses(() => splitDataset(rows(10), { test: 1.5 }), /^rows: test size must be a fraction in \[0, 1\) or a count \(an integer ≥ 1\), got 1\.5/);
    refuses(() => splitDataset(rows(10), { validation: -1 }), /^rows: validation size must be .* got -1/);
    refuses(() => splitDataset(rows(10), { seed: -1 }), /^rows: split seed must be an integer/);
  });
});

describe('images in a page: RGBA to a model row', () => {
  it('shrinks by area averaging, composites alpha onto black, grays by luminance (hand-computed)', () => {
    // 4×2 RGBA → 1×1×2 gray. Left half: red, green, gray 100, and a transparent white (black); right half: blue,
    // white, gray 50, black. Means: (88.75, 88.75, 25) and (76.25, 76.25, 140); luma 81.48 and 83.52.
    const rgba = Uint8Array.from([
      255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255,
      100, 100, 100, 255, 200, 200, 200, 0, 50, 50, 50, 255, 0, 0, 0, 255,
    ]);
    expect(Array.from(rgbaToRow(rgba, 4, 2, [1, 1, 2]))).toEqual([81, 84]);
  });

  it('weights partly covered pixels by their share, channels-last for RGB, and enlarges as blocks', () => {
    // 3×1 → 2×1: output 0 is 2/3 of pixel 0 and 1/3 of pixel 1; output 1 is 1/3 of pixel 1 and 2/3 of pixel 2.
    const rgba = Uint8Array.from([30, 60, 90, 255, 90, 120, 150, 255, 0, 0, 0, 255]);
    expect(Array.from(rgbaToRow(rgba, 3, 1, [3, 1, 2]))).toEqual([50, 80, 110, 30, 40, 50]);
    expect(Array.from(rgbaToRow(Uint8Array.from([10, 20, 30, 255]), 1, 1, [3, 2, 2]))).toEqual([10, 20, 30, 10, 20, 30, 10, 20, 30, 10, 20, 30]);
  });

  it('takes ImageData (here a plain one) to a row and several to a labelled set', () => {
    const image = (value: number) => ({ data: new Uint8ClampedArray(4 * 4 * 4).fill(value), width: 4, height: 4 }) as unknown as ImageData;
    expect(Array.from(imageToRow(image(255), [1, 2, 2]))).toEqual([255, 255, 255, 255]);
    const set = datasetFromImages([image(0), image(255)], { shape: [1, 2, 2], labels: [0, 1], classes: 2 });
    expect(set).toMatchObject({ name: 'images', count: 2, features: 4 });
    expect(Array.from(set.images)).toEqual([0, 0, 0, 0, 255, 255, 255, 255]);
  });

  it('refuses a bad shape, an empty image, a byte count that is not the size, labels that do not fit', () => {
    const image = { data: new Uint8ClampedArray(16), width: 2, height: 2 } as unknown as ImageData;
    refuses(() => imageToRow(image, [2, 28, 28]), /^image: the model's image shape must be \[channels 1 or 3, height, width\], got \[2,28,28\]/);
    refuses(() => imageToRow({ data: new Uint8ClampedArray(0), width: 0, height: 0 } as unknown as ImageData, [1, 2, 2]), /^image: 0×0 is not an image with pixels/);
    refuses(() => rgbaToRow(new Uint8Array(15), 2, 2, [1, 1, 1]), /^image: 15 bytes for 2×2 RGBA pixels \(16\)/);
    refuses(() => datasetFromImages([image], { shape: [1, 2, 2], labels: [0, 1], classes: 2 }), /^images: 2 labels for 1 rows/);
  });
});

describe('CSV', () => {
  it('splits records: quoted fields with commas, doubled quotes and line ends, CRLF, blank lines, a BOM', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y",3\r\n\r\n4,"say ""hi""",6\r\n"7","line\nbreak",9\r\n\r\n   \n';
    expect(parseCsvRecords(text, 't.csv')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', '3'] },
      { line: 4, fields: ['4', 'say "hi"', '6'] },
      { line: 5, fields: ['7', 'line\nbreak', '9'] },
    ]);
  });

  it('reads features and a label column of names (sorted to indices) or of indices, by name or index', () => {
    const text = 'x, y ,kind\n1.5,-2,cat\n0,3e2,"dog"\n.25,+1,cat\n';
    const named = csvDataset(text, 'pets.csv', { labelColumn: 'kind' });
    expect(named).toMatchObject({ name: 'pets.csv', count: 3, features: 2, featureNames: ['x', 'y'], classes: 2, classNames: ['cat', 'dog'] });
    expect(Array.from(named.images)).toEqual([1.5, -2, 0, 300, 0.25, 1]);
    expect(Array.from(named.labels)).toEqual([0, 1, 0]);
    const indexed = csvDataset('a,b,label\n1,2,0\n3,4,4\n', 'n.csv', { labelColumn: 2, features: ['b'] });
    expect(indexed).toMatchObject({ classes: 5, featureNames: ['b'] });
    expect(indexed.classNames).toBeUndefined();
    expect(Array.from(indexed.images)).toEqual([2, 4]);
    expect(Array.from(indexed.labels)).toEqual([0, 4]);
  });

  it('reads target columns as float targets', () => {
    const set = csvDataset('u,v,w\n1,2,3\n4,5,6', 'r.csv', { targetColumns: ['w', 'u'] });
    expect(set).toMatchObject({ features: 1, featureNames: ['v'], targetNames: ['w', 'u'] });
    expect(set.targets).toEqual({ values: Float32Array.from([3, 1, 6, 4]), width: 2 });
    expect(set.labels.length).toBe(0);
  });

  it.each<[string, string, object, RegExp]>([
    ['an empty file', '', { labelColumn: 0 }, /^f\.csv: empty: no header row of column names/],
    ['a header alone', 'a,b\r\n\r\n', { labelColumn: 0 }, /^f\.csv: a header row and no data rows/],
    ['a ragged row', 'a,b\n1,2\n3\n', { labelColumn: 'b' }, /^f\.csv: line 3 has 1 fields, the header has 2/],
    ['a field that is not a number', 'a,b\n1,0\nx1,1\n', { labelColumn: 'b' }, /^f\.csv: line 3, column "a": "x1" is not a number/],
    ['an empty feature', 'a,b\n,0\n', { labelColumn: 'b' }, /^f\.csv: line 2, column "a": "" is not a number/],
    ['Infinity', 'a,b\nInfinity,0\n', { labelColumn: 'b' }, /^f\.csv: line 2, column "a": "Infinity" is not a number/],
    ['a missing column', 'a,b\n1,0\n', { labelColumn: 'c' }, /^f\.csv: no label column "c"; the columns are "a", "b" \(or an index 0\.\.1\)/],
    ['a missing feature column', 'a,b\n1,0\n', { labelColumn: 'b', features: ['z'] }, /^f\.csv: no feature column "z"/],
    ['a fractional label', 'a,b\n1,0\n2,1.5\n', { labelColumn: 'b' }, /^f\.csv: line 3, column "b": label 1\.5 is not a class index .* make it a target column/],
    ['an empty label', 'a,b\n1,0\n2, \n', { labelColumn: 'b' }, /^f\.csv: line 3, column "b": the label is empty/],
    ['one class name', 'a,b\n1,x\n2,x\n', { labelColumn: 'b' }, /^f\.csv: column "b" holds one class, "x"/],
    ['neither label nor targets', 'a,b\n1,0\n', {}, /^f\.csv: give a label column or target columns/],
    ['a feature that is the label', 'a,b\n1,0\n', { labelColumn: 'b', features: ['a', 'b'] }, /^f\.csv: column "b" is both a feature and the label/],
    ['an unclosed quote', 'a,b\n1,"0\n', { labelColumn: 'b' }, /^f\.csv: line 2: a quoted field is not closed/],
  ])('refuses %s, naming file, line and column', (_, text, options, message) => {
    refuses(() => csvDataset(text, 'f.csv', options), message);
  });

  it('reads a file with a size limit, and refuses what is not UTF-8', () => {
    const path = join(dir, 'small.csv');
    writeFileSync(path, 'f,label\n1,1\n2,0\n');
    expect(readCsvDataset(path, { labelColumn: 'label' })).toMatchObject({ name: path, count: 2, classes: 2 });
    const latin = join(dir, 'latin1.csv');
    writeFileSync(latin, Buffer.from([0x61, 0x2c, 0xe9, 0x0a]));
    refuses(() => readCsvDataset(latin, { labelColumn: 0 }), /latin1\.csv: not UTF-8 text/);
    refuses(() => readCsvDataset(join(dir, 'none.csv'), { labelColumn: 0 }), /none\.csv: no such file/);
  });
});

describe('IDX files', () => {
  const idx = (dims: number[], data: number[]) => {
    const out = new Uint8Array(4 + 4 * dims.length + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, 0x0800 + dims.length, false);
    dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
    out.set(data, 4 + 4 * dims.length);
    return out;
  };

  it('reads images and labels with their shape and classes, and refuses labels out of range', () => {
    const images = join(dir, 'images-idx3-ubyte');
    const labels = join(dir, 'labels-idx1-ubyte');
    writeFileSync(images, idx([3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    writeFileSync(labels, idx([3], [2, 0, 4]));
    const set = readIdxDataset(images, labels);
    expect(set).toMatchObject({ name: 'images-idx3-ubyte', count: 3, features: 4, shape: [1, 2, 2], classes: 5 });
    expect(Array.from(set.images)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Array.from(set.labels)).toEqual([2, 0, 4]);
    refuses(() => readIdxDataset(images, labels, { classes: 3 }), /labels-idx1-ubyte: label 4 at index 2 is not a class 0\.\.2/);
    writeFileSync(labels, idx([2], [0, 1]));
    refuses(() => readIdxDataset(images, labels), /labels-idx1-ubyte has 2 labels but .*images-idx3-ubyte has 3 images/);
  });
});

describe('training on an array-built set', async () => {
  const gpu = await openTestDevice();

  it('a u8 image set given channels-first learns which channel is bright (≥ 90 % on held-out rows)', async () => {
    // 300 RGB 4×4 images, channels-first; class c has channel c brighter on average than the other two.
    const random = new Random(5);
    const count = 300;
    const labels = Array.from({ length: count }, (_, i) => i % 3);
    const inputs = new Uint8Array(count * 48);
    for (let n = 0; n < count; n++) for (let c = 0; c < 3; c++) for (let p = 0; p < 16; p++) {
      inputs[n * 48 + c * 16 + p] = random.below(150) + (c === labels[n] ? 100 : 0);
    }
    const set = datasetFromArrays({ name: 'channels', inputs, shape: [3, 4, 4], layout: 'chw', labels, classes: 3 });
    const { train, test } = splitDataset(set, { test: 0.2, seed: 0 });
    const model = new Model(gpu.device, { ...mlpOptions([48, 16, 3]), seed: 0 });
    await model.fit(train, { epochs: 8, batchSize: 32, optimizer: { kind: 'adam', lr: 1e-2 }, progressEvery: 0 });
    const result = await model.evaluate(test);
    expect(result.count).toBe(60);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.9);
    model.dispose();
  });
});

describe('CLI: train and evaluate --data FILE.csv', () => {
  const tsx = join('node_modules', '.bin', 'tsx');
  const run = (script: string, args: string[]) => {
    const r = spawnWithStderrFile(tsx, [`src/cli/${script}.ts`, ...args], { timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const csv = join(dir, 'iris.csv');
  const iris = irisDataset();
  const lines = ['sepal length,sepal width,petal length,petal width,species'];
  for (let i = 0; i < iris.count; i++) lines.push([...iris.images.subarray(4 * i, 4 * i + 4)].map((x) => +x.toFixed(1)).join(',') + `,${IRIS_CLASSES[iris.labels[i]]}`);
  writeFileSync(csv, lines.join('\r\n') + '\r\n');

  it('trains on a table with a label column of names, saves, and evaluate reads the table the same way', () => {
    const model = join(dir, 'iris.safetensors');
    const trained = run('train', ['--data', csv, '--label-column', 'species', '--hidden', '16', '--epochs', '20', '--batch-size', '16', '--lr', '0.01', '--test-size', '0.2', '--progress-every', '0', '--save', model]);
    expect(trained.code, trained.err).toBe(0);
    expect(trained.out).toContain('model: 4 → linear:16,relu,linear:3 (131 parameters)');
    expect(trained.out).toContain(`data: 105 train / 15 validation / 30 test (${csv}: 4 features, 3 classes (setosa, versicolor, virginica))`);
    const accuracy = Number(/test accuracy: ([\d.]+)%/.exec(trained.out)![1]);
    expect(accuracy).toBeGreaterThanOrEqual(90);
    const scored = run('evaluate', ['--model', model, '--data', csv, '--label-column', 'species']);
    expect(scored.code, scored.err).toBe(0);
    expect(scored.out).toContain('features standardized as in training');
    expect(Number(/test accuracy: ([\d.]+)% \(loss [\d.]+, 150 rows\)/.exec(scored.out)![1])).toBeGreaterThanOrEqual(90);    // Without the column flags it reads the columns the model was trained on, to the same figure.
    const recorded = run('evaluate', ['--model', model, '--data', csv]);
    expect(recorded.code, recorded.err).toBe(0);
    expect(/test accuracy: .*/.exec(recorded.out)![0]).toBe(/test accuracy: .*/.exec(scored.out)![0]);
  });

  it('refuses table flags without a table, a missing column and MNIST-only flags, before the GPU opens', () => {
    const cases: [string[], RegExp][] = [
      [['--label-column', 'species'], /^train: --label-column is for a table: give --data FILE\.csv$/m],
      [['--data', csv], /^train: --data .*iris\.csv: give --label-column NAME \(classes\) or --target-columns A,B,… \(float targets\)$/m],
      [['--data', csv, '--label-column', 'genus'], /^train: .*iris\.csv: no label column "genus"; the columns are "sepal length", /m],
      [['--data', csv, '--label-column', 'species', '--pixels', 'unit'], /^train: --pixels is for MNIST's images, not a table/m],
      [['--data', csv, '--label-column', 'species', '--test-size', '1.5'], /^train: --test-size must be a fraction in \[0, 1\) or a count of rows, got '1\.5'$/m],
      [['--data', csv, '--label-column', 'species', '--layers', 'linear:8,relu,linear:10'], /^train: --layers ends in 10 outputs, .*iris\.csv needs 3 \(its classes\)$/m],
    ];
    for (const [args, message] of cases) {
      const r = run('train', args);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.out).not.toMatch(/adapter:/);
    }
  });
});
