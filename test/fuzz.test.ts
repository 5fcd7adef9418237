// Property-based tests of the readers (fast-check): random and mutated bytes into the IDX, gzip, PNG and
// safetensors readers must come out as a result or a BadInputError naming the file, never as another
// error, a hang, or an allocation beyond a small multiple of the input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { parseIdx } from '../src/data/idx.js';
import { decodeSafetensors, encodeSafetensors } from '../src/data/safetensors.js';
import { modelOptionsFromCheckpoint } from '../src/engine/checkpoint.js';
import { BadInputError } from '../src/errors.js';
import { loadImagesForPrediction } from '../src/node/images.js';
import { readIdxBytes } from '../src/node/mnistFiles.js';

const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));

/** Runs `read`; passes when it returns or throws a BadInputError, fails on anything else. */
function onlyTypedErrors<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof BadInputError)) throw new Error(`not a BadInputError: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    return undefined;
  }
}

/** Valid bytes with some of them replaced, some cut off or some appended. */
const mutated = (valid: Uint8Array) =>
  fc.tuple(fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat({ max: valid.length }), fc.uint8Array({ maxLength: 16 }))
    .map(([edits, keep, extra]) => {
      const bytes = Uint8Array.from(valid);
      for (const [at, value] of edits) bytes[at] = value;
      return Uint8Array.from([...bytes.subarray(0, keep), ...extra]);
    });

const idx = (() => {
  const bytes = new Uint8Array(4 + 12 + 3 * 4 * 4);
  new DataView(bytes.buffer).setUint32(0, 0x00000803);
  [3, 4, 4].forEach((d, i) => new DataView(bytes.buffer).setUint32(4 + 4 * i, d));
  return bytes;
})();

const safetensors = encodeSafetensors(
  [['0.weight', { shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i / 7) }], ['0.bias', { shape: [3], data: new Float32Array(3) }]],
  { layers: 'linear:3,relu,linear:2', inputs: '5', seed: '1' },
);

describe('readers under random and mutated input', () => {
  it('parseIdx', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated(idx)), (bytes) => {
      const t = onlyTypedErrors(() => parseIdx(bytes, 'f.idx'));
      if (t) expect(t.data.length).toBeLessThanOrEqual(bytes.length);
    }), { numRuns: 500 });
  });

  it('decodeSafetensors, and the model options read from its metadata', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 96 }), mutated(safetensors)), (bytes) => {
      const file = onlyTypedErrors(() => decodeSafetensors(bytes, 'f.safetensors'));
      if (!file) return;
      const floats = [...file.tensors.values()].reduce((n, t) => n + t.data.length, 0);
      expect(4 * floats).toBeLessThanOrEqual(2 * bytes.length); // F16 widens 2 bytes to 4
      onlyTypedErrors(() => modelOptionsFromCheckpoint(file, 'f.safetensors'));
    }), { numRuns: 500 });
  });

  it('gzipped IDX files', () => {
    const gz = gzipSync(idx);
    let n = 0;
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated(gz)), (bytes) => {
      const path = join(dir, `g${n++}`);
      writeFileSync(`${path}.gz`, bytes);
      const out = onlyTypedErrors(() => parseIdx(readIdxBytes(path), path));
      if (out) expect(out.data.length).toBeLessThanOrEqual(64 << 20);
    }), { numRuns: 200 });
  });

  it('PNG images to predict', () => {
    const png = new PNG({ width: 6, height: 5 });
    png.data.fill(200);
    const valid = PNG.sync.write(png);
    let n = 0;
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated(valid)), (bytes) => {
      const path = join(dir, `p${n++}.png`);
      writeFileSync(path, bytes);
      const out = onlyTypedErrors(() => loadImagesForPrediction(path));
      if (out) expect(out.images.length).toBe(784);
    }), { numRuns: 200 });
  });
});
