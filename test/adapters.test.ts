// Which software adapter a machine without a GPU gets, as a user sees it in a child process: lavapipe where it is
// found (without Dawn's warnings on stderr), SwiftShader when it is not (saying so), and --adapter lavapipe
// refused in one line when there is none. Where to look for lavapipe, and what the remembered answer depends on.
// Training steps on lavapipe and on SwiftShader give the same bits: the MLP, every activation, average pooling,
// label smoothing and the 'mse' and 'bce' losses.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchedLavapipeDir, lavapipeIcdCandidates, lavapipeIdentity } from '../src/node/lavapipe.js';
import { findLavapipe, openNodeDevice, SWIFTSHADER_ICD, systemProbeCache } from '../src/node/gpu.js';
import { Model, type ModelOptions } from '../src/engine/model.js';
import type { FitOptions } from '../src/engine/fit.js';
import type { AnyDataset, Dataset, FloatDataset } from '../src/data/dataset.js';
import { RunFailure } from '../src/errors.js';
import { mlpOptions, syntheticData, targetData } from './helpers/model.js';
import { parseLayers } from '../src/layers/index.js';
import { probeKey } from '../src/node/vulkanProbe.js';
import { spawnWithStderrFile } from './helpers/stderr.js';

const dir = mkdtempSync(join(tmpdir(), 'adapters-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tsx = join('node_modules', '.bin', 'tsx');
const tiny = ['--epochs', '1', '--limit', '64', '--batch-size', '32', '--hidden', '8', '--validation-size', '32'];

function train(args: string[], env: Record<string, string> = {}) {
  const r = spawnWithStderrFile(tsx, ['src/cli/train.ts', ...tiny, ...args], { timeout: 300_000, env: { ...process.env, ...env } });
  // Dawn's harmless XDG_RUNTIME_DIR complaint and the progress lines (a log gets one every 10 %) aside, stderr
  // holds only the engine's lines.
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !/XDG_RUNTIME_DIR/.test(l));
  const progress = lines.filter((l) => /^epoch \d+\/\d+ +\d+% /.test(l));
  return { code: r.status, out: r.stdout, err: lines.filter((l) => !progress.includes(l)).join('\n'), progress };
}

describe('the software adapters', () => {
  it('auto without lavapipe falls back to SwiftShader and says why; --adapter lavapipe then stops in one line, exit 1', () => {
    const none = { LAVAPIPE_ICD: join(dir, 'missing', 'lvp_icd.json') };
    const auto = train([], none);
    expect(auto.code, auto.err).toBe(0);
    // (Unless the system's own driver gives an adapter: then auto takes it, and lavapipe is never asked.)
    if (!/system Vulkan driver/.test(auto.out.split('\n')[0].split(' — ')[1] ?? '')) {
      expect(auto.out).toMatch(/^adapter: google \/ swiftshader .* — the system Vulkan driver gave no adapter and no lavapipe was found \(bash scripts\/setup\.sh fetches it/);
    }
    expect(auto.out).toMatch(/^test accuracy: /m);
    const named = train(['--adapter', 'lavapipe'], none);
    expect([named.code, named.err]).toEqual([1, expect.stringMatching(/^train: no usable lavapipe \(Mesa ≥ 24\) found: bash scripts\/setup\.sh fetches it on Debian 12; .*--adapter swiftshader$/)]);
  });

  it('--adapter lavapipe, where it is found, prints the numbers SwiftShader prints for a short run, with nothing from Dawn on stderr', () => {
    const lavapipe = train(['--adapter', 'lavapipe']);
    if (findLavapipe() === undefined) {
      expect([lavapipe.code, lavapipe.err]).toEqual([1, expect.stringMatching(/^train: no usable lavapipe/)]);
      return;
    }
    expect(lavapipe.code, lavapipe.err).toBe(0);
    expect(lavapipe.out).toMatch(/^adapter: mesa \/ .*llvmpipe.* — lavapipe \(software, Mesa\), as asked from /);
    expect(lavapipe.err).toBe('');
    // stderr works after the device opened (Dawn's warnings were kept off it around the adapter request only).
    expect(lavapipe.progress.length).toBeGreaterThan(0);
    const swiftshader = train(['--adapter', 'swiftshader']);
    expect(swiftshader.code, swiftshader.err).toBe(0);
    const results = (out: string) => out.split('\n').filter((l) => /^epoch +1 |^test accuracy/.test(l)).map((l) => l.replace(/\s+[\d.]+s\s+[\d,]+ samples\/s$|, trained in .*\)$/, ''));
    expect(results(lavapipe.out)).toEqual(results(swiftshader.out));
    expect(results(lavapipe.out)).toHaveLength(2);
  });

  it('a remembered system adapter that is gone costs nothing: the run falls back to a software driver, quietly, and forgets it', () => {
    const cacheHome = join(dir, 'cache');
    const file = join(cacheHome, 'webgpu-mlp', 'vulkan-probe.json');
    mkdirSync(join(cacheHome, 'webgpu-mlp'), { recursive: true });
    writeFileSync(file, JSON.stringify({ key: probeKey(systemProbeCache()), hasAdapter: true }));
    // The fetched lavapipe is looked for under $XDG_CACHE_HOME: name this machine's, where it has one.
    const lavapipe = lavapipeIcdCandidates()[0];
    const r = train([], { XDG_CACHE_HOME: cacheHome, ...(lavapipe ? { LAVAPIPE_ICD: lavapipe } : {}) });
    expect(r.code, r.err).toBe(0);
    const note = r.out.split('\n')[0];
    if (!/ — system Vulkan driver/.test(note)) {
      // No system driver here: the remembered 'yes' was stale.
      expect(note).toMatch(lavapipe ? /— the system Vulkan driver no longer gives an adapter; using lavapipe/ : /— the system Vulkan driver no longer gives an adapter and no lavapipe was found/);
      expect(r.err).toBe('');
      expect(r.progress.length).toBeGreaterThan(0);
      expect(JSON.parse(readFileSync(file, 'utf8')).hasAdapter).not.toBe(true);
    }
    expect(r.out).toMatch(/^test accuracy: /m);
  });

  it('looks at $LAVAPIPE_ICD alone when set, else the fetched copy and the system folders; the identity follows the driver library', () => {
    const icdDir = join(dir, 'icd');
    mkdirSync(icdDir, { recursive: true });
    const icd = join(icdDir, 'lvp_icd.json');
    const library = join(icdDir, 'libvulkan_lvp.so');
    writeFileSync(library, 'one');
    writeFileSync(icd, JSON.stringify({ ICD: { library_path: library, api_version: '1.4.305' } }));
    const saved = process.env.LAVAPIPE_ICD;
    try {
      process.env.LAVAPIPE_ICD = icd;
      expect(lavapipeIcdCandidates()).toEqual([icd]);
      delete process.env.LAVAPIPE_ICD;
      for (const f of lavapipeIcdCandidates()) expect(f).toMatch(/^(\/usr\/share|\/usr\/local\/share|\/etc)\/vulkan\/icd\.d\/lvp_icd\.|\/webgpu-mlp\/lavapipe\//);
      expect(fetchedLavapipeDir()).toMatch(/webgpu-mlp\/lavapipe$/);
    } finally {
      if (saved === undefined) delete process.env.LAVAPIPE_ICD;
      else process.env.LAVAPIPE_ICD = saved;
    }
    const before = lavapipeIdentity(icd);
    expect(before).toContain(library);
    writeFileSync(library, 'a rebuilt driver');
    expect(lavapipeIdentity(icd)).not.toBe(before);
  });
});

/** A model trained on each adapter in turn: its weights and Adam's moments, and the epoch's loss and metric. */
async function trainOn(adapter: 'lavapipe' | 'swiftshader', options: ModelOptions, data: AnyDataset, fit: Pick<FitOptions, 'batchSize' | 'labelSmoothing'>) {
  const gpu = await openNodeDevice(adapter);
  try {
    const model = new Model(gpu.device, options);
    const [epoch] = await model.fit(data, { epochs: 1, optimizer: { kind: 'adam', lr: 1e-2 }, ...fit });
    const state = await model.exportState({ full: true });
    // The weights and Adam's moments ("optimizer.exp_avg.0.weight", …).
    const tensors = new Map([...state.tensors, ...(state.training?.optimizer ?? [])]);
    return { tensors, losses: [epoch.trainLoss, epoch.trainAccuracy, epoch.trainMeanAbsoluteError] };
  } finally {
    gpu.destroy();
  }
}

/** Per tensor, how many of its values differ in any bit between the two runs (a diff of the arrays would be unreadable). */
function differingValues(a: Awaited<ReturnType<typeof trainOn>>, b: Awaited<ReturnType<typeof trainOn>>): [string, number | string][] {
  const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
  return [...a.tensors].map(([name, t]) => {
    const [x, y] = [bits(t.data), bits(b.tensors.get(name)!.data)];
    return [name, x.length === y.length ? x.filter((w, i) => w !== y[i]).length : `length ${x.length} against ${y.length}`];
  });
}

/** Trains on both adapters and expects every bit equal; where lavapipe is missing, expects it refused. */
async function expectSameBits(options: ModelOptions, data: AnyDataset, fit: Pick<FitOptions, 'batchSize' | 'labelSmoothing'>, someTensors: string[]) {
  expect(existsSync(SWIFTSHADER_ICD)).toBe(true);
  if (findLavapipe() === undefined) {
    await expect(openNodeDevice('lavapipe')).rejects.toThrow(RunFailure);
    return;
  }
  // Each adapter takes its own default kernels (lavapipe's tiles differ from SwiftShader's, sum in the same order).
  const [lavapipe, swiftshader] = [await trainOn('lavapipe', options, data, fit), await trainOn('swiftshader', options, data, fit)];
  const differing = differingValues(lavapipe, swiftshader);
  expect(differing.map(([name]) => name)).toEqual(expect.arrayContaining(someTensors));
  expect(differing.filter(([, n]) => n !== 0)).toEqual([]);
  expect(lavapipe.losses).toEqual(swiftshader.losses);
}

/** A byte data set as f32 features, standardized as MNIST's pixels are: (x/255 − 0.1307) / 0.3081 in float64. */
function asFeatures(data: Dataset): FloatDataset {
  return { ...data, images: Float32Array.from(data.images, (b) => (b / 255 - 0.1307) / 0.3081) };
}

describe('the same bits on both software adapters', () => {
  it('three Adam steps of a 784-96-10 MLP on f32 features give identical weights, moments and losses on lavapipe and SwiftShader', async () => {
    const options = { ...mlpOptions([784, 96, 10]), input: 'f32' as const, seed: 3 };
    await expectSameBits(options, asFeatures(syntheticData(192, 784, 10, 5)), { batchSize: 64 }, ['0.weight', '2.bias', 'optimizer.exp_avg_sq.0.weight']);
  });

  it('on u8 pixels (read in the first product, and in a convolution\'s columns), standardized: identical on both', async () => {
    const mnist = syntheticData(192, 784, 10, 11);
    await expectSameBits({ ...mlpOptions([784, 96, 10]), seed: 4 }, mnist, { batchSize: 64 }, ['0.weight', 'optimizer.exp_avg.0.weight']);
    const layers = parseLayers('conv2d:4:k=5,relu,maxpool2d:2,flatten,linear:10');
    await expectSameBits({ layers, inputs: [1, 28, 28], seed: 5 }, mnist, { batchSize: 64 }, ['0.weight', '4.weight']);
  });

  it('every activation, a 3×3 average pool and label smoothing: three Adam steps, identical on both', async () => {
    const layers = parseLayers('conv2d:4:k=3:pad=1,tanh,avgpool2d:3:stride=1,gelu,flatten,linear:16,sigmoid,linear:12,silu,linear:12,leakyrelu:0.2,linear:10');
    const options = { layers, inputs: [1, 8, 8], input: 'f32' as const, seed: 6 };
    await expectSameBits(options, asFeatures(syntheticData(96, 64, 10, 7)), { batchSize: 32, labelSmoothing: 0.1 }, ['0.weight', '5.weight', 'optimizer.exp_avg.11.bias']);
  });

  it.each(['mse', 'bce'] as const)('%s with 3 outputs after tanh: three Adam steps, identical on both', async (loss) => {
    const options = { layers: parseLayers('linear:12,tanh,linear:3'), inputs: 5, input: 'f32' as const, loss, seed: 8 };
    await expectSameBits(options, targetData(96, 5, 3, loss, 9), { batchSize: 32 }, ['0.weight', '2.bias']);
  });
});
