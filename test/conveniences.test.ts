// One-call loading (Model.load from bytes, a path, a file: URL, an http URL; each failure names its source), a
// loaded model's epochs, step and recipe, and the IndexedDB listing's name for a model (its input shape).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, Model, parseLayers, type Dataset } from '../src/node/index.js';
import { storedArchitecture } from '../src/browser/modelStore.js';
import { openTestDevice } from './helpers/gpu.js';
import { syntheticData, mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();
const dir = mkdtempSync(join(tmpdir(), 'webgpu-mlp-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const train: Dataset = syntheticData(96, 29, 7, 5);
const fit = { epochs: 2, batchSize: 32, optimizer: { kind: 'adamw' as const, lr: 2e-3, weightDecay: 1e-3 }, labelSmoothing: 0.05 };

/** The model's outputs on the first rows, to tell one set of weights from another. */
const outputs = (m: Model) => m.predict(train.images, { count: 8 });

describe('Model.load', () => {
  let trained: Model;
  let bytes: Uint8Array<ArrayBuffer>;
  let file: string;
  let server: ReturnType<typeof createServer>;
  let base: string;
  beforeAll(async () => {
    trained = new Model(gpu.device, { ...mlpOptions([29, 13, 7]), seed: 2 });
    await trained.fit(train, fit);
    bytes = await trained.toSafetensors();
    file = join(dir, 'model.safetensors');
    writeFileSync(file, bytes);
    server = createServer((req, res) => {
      if (req.url === '/model.safetensors') res.end(bytes);
      else res.writeHead(404, 'Not Found').end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.close();
    trained.dispose();
  });

  it('takes bytes, a typed array over part of a buffer, a path, a file: URL and an http URL: each the same model', async () => {
    const want = await outputs(trained);
    const padded = new Uint8Array(bytes.length + 16);
    padded.set(bytes, 16);
    const sources = [bytes, bytes.buffer, padded.subarray(16), file, pathToFileURL(file), pathToFileURL(file).href, `${base}/model.safetensors`, new URL(`${base}/model.safetensors`)];
    for (const source of sources) {
      const model = await Model.load(gpu.device, source);
      expect(await outputs(model), String(source)).toEqual(want);
      model.dispose();
    }
  });

  it('refuses what it cannot have, naming it: HTTP 404, no such file, a directory, an unreadable file, no server', async () => {
    const refused = async (source: Parameters<typeof Model.load>[1]) => {
      const error = await Model.load(gpu.device, source).then(() => undefined, (e: unknown) => e);
      expect(error, String(source)).toBeInstanceOf(BadInputError);
      return (error as Error).message;
    };
    expect(await refused(`${base}/missing.safetensors`)).toBe(`${base}/missing.safetensors: HTTP 404 Not Found`);
    expect(await refused(join(dir, 'none.safetensors'))).toBe(`${join(dir, 'none.safetensors')}: no such file`);
    expect(await refused(dir)).toBe(`${dir}: is a directory, not a file`);
    expect(await refused('http://127.0.0.1:1/model.safetensors')).toMatch(/^http:\/\/127\.0\.0\.1:1\/model\.safetensors: could not be fetched \(/);
    expect(await refused({} as { indexedDB: string })).toMatch(/^Model\.load: a source is a URL, a path, bytes or \{ indexedDB: name \}/);
    const locked = join(dir, 'locked.safetensors');
    writeFileSync(locked, bytes);
    chmodSync(locked, 0);
    // root reads any file: then the file loads, and there is nothing to refuse.
    if (process.getuid?.() !== 0) expect(await refused(locked)).toBe(`${locked}: cannot be read (EACCES)`);
    // Not a model file at all: the decoder names it.
    expect(await refused(new Uint8Array(3))).toMatch(/^bytes: 3 bytes is too short/);
  });
});

describe('a loaded model keeps what trained it', () => {
  it('epochs, step and recipe from a weights-only file and from a full checkpoint; the next fit counts on', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([29, 13, 7]), seed: 3 });
    await model.fit(train, fit);
    expect([model.epochs, model.step]).toEqual([2, 6]);
    for (const full of [false, true]) {
      const loaded = await Model.load(gpu.device, await model.toSafetensors({ full }));
      expect([loaded.epochs, loaded.step], `full: ${full}`).toEqual([2, 6]);
      expect(loaded.recipe, `full: ${full}`).toEqual(model.recipe);
      // Saved again, it says the same.
      const again = await Model.load(gpu.device, await loaded.toSafetensors());
      expect([again.epochs, again.step, again.recipe]).toEqual([2, 6, model.recipe]);
      // A weights file has no optimizer state: the next fit's optimizer counts its own steps from 0.
      await loaded.fit(train, { ...fit, epochs: 1 });
      expect([loaded.epochs, loaded.step], `full: ${full}`).toEqual([3, full ? 9 : 3]);
      loaded.dispose();
      again.dispose();
    }
    model.dispose();
  });

  it('a PyTorch state dict (no metadata) loads untrained: epoch 0, step 0, no recipe', async () => {
    const model = new Model(gpu.device, { ...mlpOptions([29, 13, 7]), seed: 3 });
    const { encodeSafetensors } = await import('../src/data/safetensors.js');
    const state = await model.exportState();
    const loaded = await Model.load(gpu.device, encodeSafetensors([...state.tensors], {}));
    expect([loaded.epochs, loaded.step, loaded.recipe]).toEqual([0, 0, undefined]);
    loaded.dispose();
    model.dispose();
  });
});

describe('the IndexedDB listing', () => {
  it('names a model by its input shape and layers', () => {
    const cnn = new Model(gpu.device, { layers: parseLayers('conv2d:4:k=5,relu,maxpool2d:2,flatten,linear:10'), seed: 1 });
    const mlp = new Model(gpu.device, { ...mlpOptions([784, 16, 10]), seed: 1 });
    expect(storedArchitecture(cnn)).toBe('1×28×28 → conv2d:4:k=5,relu,maxpool2d:2,flatten,linear:10');
    expect(storedArchitecture(mlp)).toBe('784 → linear:16,relu,linear:10');
    cnn.dispose();
    mlp.dispose();
  });
});
