// Interop with PyTorch (Debian's python3-torch): the engine's file loads into nn.Sequential with
// load_state_dict(strict=True) and scores the same test accuracy there; a model trained in PyTorch scores
// the same here. Requires /usr/bin/python3 with torch (scripts/setup.sh installs it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/engine/checkpoint.js';
import { splitMnist } from '../src/data/mnist.js';
import { Model } from '../src/engine/model.js';
import { loadMnist } from '../src/node/mnistFiles.js';
import { openModelFile } from '../src/node/modelFiles.js';
import { openTestDevice } from './helpers/gpu.js';
import { parseLayers } from '../src/layers/index.js';
import { mlpOptions } from './helpers/model.js';

const gpu = await openTestDevice();
const mnist = loadMnist();
const dir = mkdtempSync(join(tmpdir(), 'torch-'));
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';

function interop(args: string[]): { accuracy: number; out: string } {
  const r = spawnSync(PYTHON, ['test/torch_interop.py', ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`torch_interop.py ${args[0]} failed (${r.status}): ${r.error?.message ?? ''}${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop()!;
  return { accuracy: JSON.parse(last).test_accuracy, out: r.stdout };
}

describe('PyTorch interop', () => {
  it('an engine model loads into PyTorch strictly and scores the same test accuracy (±0.05 points)', async () => {
    const splits = splitMnist(mnist, { limit: 3000 });
    const model = new Model(gpu.device, { ...mlpOptions([784, 48, 10]), seed: 0, pixelMean: 0.1307, pixelStd: 0.3081 });
    await model.fit(splits.train, { epochs: 1, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } });
    const file = join(dir, 'engine.safetensors');
    writeFileSync(file, await saveCheckpoint(model));
    const ours = (await model.evaluate(splits.test)).accuracy;
    const theirs = interop(['check', file]);
    expect(theirs.out).toContain('loaded with strict=True');
    expect(Math.abs(100 * theirs.accuracy - 100 * ours)).toBeLessThanOrEqual(0.05);
    model.dispose();
  });

  it('a model trained in PyTorch scores the same test accuracy in the engine (±0.05 points)', async () => {
    const file = join(dir, 'torch.safetensors');
    const theirs = interop(['train', file, '--epochs', '1', '--limit', '5000']);
    expect(readFileSync(file).length).toBeGreaterThan(397_510 * 4);
    const { model, metadata } = openModelFile(gpu.device, file);
    expect(metadata.trained_by).toMatch(/^pytorch/);
    const ours = (await model.evaluate(mnist.test)).accuracy;
    expect(ours).toBeGreaterThan(0.85);
    expect(Math.abs(100 * theirs.accuracy - 100 * ours)).toBeLessThanOrEqual(0.05);
    model.dispose();
  });

  it('CNNs and a tanh network are rebuilt from their layer lists in PyTorch, and score the same there', async () => {
    const splits = splitMnist(mnist, { limit: 2000 });
    const expected: Record<string, string[]> = {
      'conv2d:4:k=3:pad=1,batchnorm,relu,maxpool2d:2,conv2d:6:k=3:stride=2,gelu,flatten,dropout:0.1,linear:10': ['Conv2d', 'BatchNorm2d', 'ReLU', 'MaxPool2d', 'Conv2d', 'GELU', 'Flatten', 'Dropout', 'Linear'],
      'conv2d:6:k=3:pad=1,leakyrelu:0.2,avgpool2d:2,flatten,linear:32,leakyrelu,linear:10': ['Conv2d', 'LeakyReLU', 'AvgPool2d', 'Flatten', 'Linear', 'LeakyReLU', 'Linear'],
      'linear:40,tanh,linear:20,sigmoid,linear:10': ['Linear', 'Tanh', 'Linear', 'Sigmoid', 'Linear'],
    };
    for (const [layers, modules] of Object.entries(expected)) {
      const model = new Model(gpu.device, { layers: parseLayers(layers), seed: 1, pixelMean: 0.1307, pixelStd: 0.3081 });
      await model.fit(splits.train, { epochs: 1, batchSize: 64, optimizer: { kind: 'adam', lr: 2e-3 } });
      const file = join(dir, 'layers.safetensors');
      writeFileSync(file, await saveCheckpoint(model));
      const ours = (await model.evaluate(mnist.test)).accuracy;
      const theirs = interop(['check', file]);
      expect(theirs.out).toContain(`→ ${layers} loaded with strict=True`);
      expect(JSON.parse(theirs.out.trim().split('\n').pop()!).modules).toEqual(modules);
      expect(ours).toBeGreaterThan(0.5);
      expect(Math.abs(100 * theirs.accuracy - 100 * ours)).toBeLessThanOrEqual(0.05);
      model.dispose();
    }
  });

  it('a CNN trained in PyTorch scores the same test accuracy in the engine (±0.05 points)', async () => {
    const file = join(dir, 'torch-cnn.safetensors');
    const layers = 'conv2d:6:k=5:pad=2,batchnorm,relu,maxpool2d:2,flatten,linear:10';
    const theirs = interop(['train', file, '--epochs', '1', '--limit', '3000', '--layers', layers]);
    const { model } = openModelFile(gpu.device, file);
    expect(model.architecture.name).toBe(`1×28×28 → ${layers}`);
    const ours = (await model.evaluate(mnist.test)).accuracy;
    expect(ours).toBeGreaterThan(0.5);
    expect(Math.abs(100 * theirs.accuracy - 100 * ours)).toBeLessThanOrEqual(0.05);
    model.dispose();
  });

  it.each(['mse', 'bce'] as const)("a '%s' model loads into PyTorch strictly and gives the same outputs, loss and metrics there", async (loss) => {
    // A small task of f32 features: one value per row for 'mse', three 0/1 labels for 'bce'.
    const [count, features, width] = [300, 5, loss === 'mse' ? 1 : 3];
    const images = Float32Array.from({ length: count * features }, (_, i) => Math.sin(i * 12.9898) * 2);
    const values = new Float32Array(count * width);
    for (let r = 0; r < count; r++) {
      const x = images.subarray(r * features, (r + 1) * features);
      const y = [x[0] * x[1], x[2] - 0.5 * x[3], Math.tanh(x[4] + x[0])];
      values.set(loss === 'mse' ? y.slice(0, 1) : y.map((v) => (v > 0 ? 1 : 0)), r * width);
    }
    const data = { name: `${loss} data`, images, labels: new Uint8Array(0), targets: { values, width }, count, features };
    const model = new Model(gpu.device, { layers: parseLayers(`linear:24,tanh,linear:${width}`), inputs: features, input: 'f32', loss, seed: 2 });
    await model.fit(data, { epochs: 5, batchSize: 32, optimizer: { kind: 'adam', lr: 1e-2 } });
    const file = join(dir, `${loss}.safetensors`);
    writeFileSync(file, await saveCheckpoint(model));
    const [featuresFile, targetsFile, outputsFile] = ['features', 'targets', 'outputs'].map((n) => join(dir, `${loss}.${n}.f32`));
    writeFileSync(featuresFile, images);
    writeFileSync(targetsFile, values);
    const r = spawnSync(PYTHON, ['test/torch_interop.py', 'targets', file, featuresFile, targetsFile, outputsFile], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`loaded with strict=True, loss ${loss}`);
    const theirs = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const ours = await model.evaluate(data);
    const predicted = await model.predict(images);
    const outputs = new Float32Array(Uint8Array.from(readFileSync(outputsFile)).buffer);
    expect(outputs.length).toBe(predicted.length);
    for (let i = 0; i < outputs.length; i++) expect(Math.abs(outputs[i] - predicted[i])).toBeLessThan(1e-5);
    expect(Math.abs(theirs.loss - ours.loss)).toBeLessThan(1e-5);
    if (loss === 'mse') {
      expect(Math.abs(theirs.mae - ours.meanAbsoluteError!)).toBeLessThan(1e-5);
      expect(Math.abs(theirs.r2 - ours.r2!)).toBeLessThan(1e-5);
    } else expect(theirs.label_accuracy).toBeCloseTo(ours.labelAccuracy!, 5);
    model.dispose();
  });

  it('refuses a file whose layers the engine refuses, with its message', () => {
    const file = join(dir, 'unknown.safetensors');
    const header = JSON.stringify({ __metadata__: { layers: 'linear:10,not_a_kind,linear:10', inputs: '784' } });
    const padded = header + ' '.repeat((8 - ((8 + header.length) % 8)) % 8);
    const bytes = Buffer.concat([Buffer.from(new BigUint64Array([BigInt(padded.length)]).buffer), Buffer.from(padded)]);
    writeFileSync(file, bytes);
    const r = spawnSync(PYTHON, ['test/torch_interop.py', 'check', file], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("unknown layer kind 'not_a_kind' in 'not_a_kind' (layer 1)");
  });
});
