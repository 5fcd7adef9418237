// Every registered layer kind through the same checks, in the cases its module declares (LayerModule.examples):
// each case is the layer between a layer that makes its input shape and a linear head, so a new kind is covered
// without a test of its own. Per case: whole-model gradients against the float64 reference, with and without
// fusion; after a few training steps, ONNX in onnxruntime-node against predict, a bit-for-bit checkpoint
// round trip, and PyTorch (one process for every case) loading the checkpoint strictly into the modules the
// registry names and giving predict's probabilities. Per kind: the written form's round trip, its bad arguments
// refused naming the kind, its line in the generated layer table. Requires /usr/bin/python3 with torch.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/data/safetensors.js';
import { BadInputError } from '../src/errors.js';
import { Model, modelInternals } from '../src/engine/model.js';
import { mlpForwardBackward } from '../src/engine/referenceStep.js';
import { architecture } from '../src/layers/architecture.js';
import { formatLayers, LAYER_KINDS, LAYER_MODULES, moduleOf, parseLayers, type LayerSpec } from '../src/layers/index.js';
import type { LayerExample } from '../src/layers/layer.js';
import { layerTable, withLayerTable } from '../src/layers/layerTable.js';
import { formatShape, isImage } from '../src/layers/shape.js';
import { torchModules } from '../src/layers/torch.js';
import { expectClose, openTestDevice, withErrorScope } from './helpers/gpu.js';
import { expectGradientsClose, syntheticData } from './helpers/model.js';

const gpu = await openTestDevice();
const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const CLASSES = 3;
const PIXELS = { pixelMean: 0.1, pixelStd: 0.3 };

interface Case extends LayerExample {
  kind: string;
  /** The model around the layer: its input shape and its written list. */
  inputs: number[];
  layers: string;
}

/** The layer after one that makes its input shape from the model's (a 1×1 convolution or a linear), before a linear head. */
function caseOf(kind: string, example: LayerExample): Case {
  const spec = parseLayers(example.layer)[0];
  const output = moduleOf(spec).outputShape(spec as never, example.input);
  const [before, inputs] = isImage(example.input) ? [`conv2d:${example.input[0]}:k=1`, [1, example.input[1], example.input[2]]] : [`linear:${example.input[0]}`, [9]];
  const layers = [before, example.layer, ...(isImage(output) ? ['flatten'] : []), `linear:${CLASSES}`].join(',');
  return { kind, ...example, inputs, layers };
}

const CASES = LAYER_KINDS.flatMap((kind) => LAYER_MODULES[kind].examples.map((e) => caseOf(kind, e)));
const name = (c: Case) => `${c.layer} on ${formatShape(c.input)}`;

/** What each case leaves for the PyTorch check: its checkpoint, modules, pixels and predict's probabilities. */
const forTorch = new Map<Case, { file: string; modules: unknown; pixels: number[]; want: Float32Array }>();

describe('the registry', () => {
  it('every kind has cases, a doc line and bad arguments; kinds are lowercase letters and digits (so not_a_kind is none)', () => {
    for (const kind of LAYER_KINDS) {
      const m = LAYER_MODULES[kind];
      expect(kind).toMatch(/^[a-z][a-z0-9]*$/);
      expect(m.kind).toBe(kind);
      expect(m.examples.length, kind).toBeGreaterThan(0);
      expect(m.refuses.length, kind).toBeGreaterThan(0);
      for (const e of m.examples) expect(e.layer.split(':')[0], kind).toBe(kind);
      expect(m.doc.written.startsWith(kind) && m.doc.torch.startsWith('nn.'), kind).toBe(true);
    }
  });

  it("docs/guides/layers.md's layer table is the registry's (npm run docs:layers writes it)", () => {
    const markdown = readFileSync('docs/guides/layers.md', 'utf8');
    expect(markdown).toContain(layerTable());
    expect(withLayerTable(markdown)).toBe(markdown);
    for (const kind of LAYER_KINDS) expect(layerTable()).toContain(`| \`${LAYER_MODULES[kind].doc.written}\` |`);
  });
});

describe.each(LAYER_KINDS)('%s: the written form', (kind) => {
  const m = LAYER_MODULES[kind];

  it('its cases round trip: parse(format(spec)) is the spec and format(parse(text)) the text', () => {
    for (const example of m.examples) {
      const [spec] = parseLayers(example.layer);
      expect(spec.kind).toBe(kind);
      expect(formatLayers([spec])).toBe(example.layer);
      expect(parseLayers(formatLayers([spec]))).toEqual([spec]);
      // As data in a model, the spec is checked and named by the same written form.
      const c = caseOf(kind, example);
      expect(architecture([...parseLayers(c.layers)], c.inputs).text).toBe(c.layers);
    }
  });

  it('its bad arguments are refused with a BadInputError naming the kind and what was written', () => {
    for (const text of [...m.refuses, `${kind}:bogus=1:x`]) {
      const [, ...args] = text.split(':');
      let error: unknown;
      try {
        moduleOf({ kind } as LayerSpec).parse(args);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(BadInputError);
      expect((error as Error).message, text).toContain(kind);
      expect(() => parseLayers(`linear:4,${text},linear:2`), text).toThrow(`layer 1 ('${text}')`);
    }
  });
});

describe.each(CASES.map((c) => [name(c), c] as const))('%s', (_name, c) => {
  it(`gradients against float64 (fused and unfused), then ONNX, a checkpoint round trip and predict after training`, async () => {
    await withErrorScope(gpu.device, async () => {
      const specs = parseLayers(c.layers);
      const arch = architecture(specs, c.inputs);
      // One row count throughout (gradients, training batches, predict's batch): the kernels, specialized to
      // their shapes, compile once per case.
      const rows = 8;
      const data = syntheticData(rows, arch.inputs, CLASSES, 7);
      for (const fuse of [true, false]) {
        const model = new Model(gpu.device, { layers: specs, inputs: c.inputs, seed: 3, fuse, ...PIXELS });
        const params = await model.getParams();
        const got = await model.gradients(data, { step: 2 });
        const want = mlpForwardBackward(params, modelInternals(model).parameters.layout, arch, data.images, data.labels, rows, 1 / PIXELS.pixelStd, -PIXELS.pixelMean / PIXELS.pixelStd, { seed: 3, step: 2 });
        expectGradientsClose(got, want.grads, modelInternals(model).parameters.layout.tensors);
        model.dispose();
      }

      // A few steps move the weights and any running estimates off their initial values.
      const model = new Model(gpu.device, { layers: specs, inputs: c.inputs, seed: 3, ...PIXELS });
      await model.fit(syntheticData(2 * rows, arch.inputs, CLASSES, 8), { epochs: 1, batchSize: rows, optimizer: { kind: 'adam', lr: 1e-2 } });
      const count = rows;
      const pixels = syntheticData(count, arch.inputs, CLASSES, 9).images;
      const want = await model.predict(pixels, { count });

      const session = await ort.InferenceSession.create(await model.toOnnx());
      const out = await session.run({ pixels: new ort.Tensor('uint8', pixels, [count, arch.inputs]) });
      expectClose(out.probabilities.data as Float32Array, want, 1e-5, 0, `onnx ${c.layers}`);

      const bytes = await model.toSafetensors({ full: true });
      const copy = Model.fromSafetensors(gpu.device, bytes, 'conformance.safetensors');
      expect(copy.architecture.name).toBe(model.architecture.name);
      const [saved, again] = [bytes, await copy.toSafetensors({ full: true })].map((b) => decodeSafetensors(b, 'conformance.safetensors'));
      // Everything but what records the kernels this process's plans ran (kernels, matmul_variants), not the model.
      const modelPart = ({ kernels: _k, matmul_variants: _v, ...rest }: Record<string, string>) => rest;
      expect(modelPart(again.metadata)).toEqual(modelPart(saved.metadata));
      expect([...again.tensors.keys()]).toEqual([...saved.tensors.keys()]);
      for (const [key, t] of saved.tensors) expect(Buffer.from(again.tensors.get(key)!.data.buffer).equals(Buffer.from(t.data.buffer)), key).toBe(true);
      expect(Array.from(await copy.predict(pixels, { count }))).toEqual(Array.from(want));

      const file = join(dir, `case${CASES.indexOf(c)}.safetensors`);
      writeFileSync(file, await model.toSafetensors());
      forTorch.set(c, { file, modules: torchModules(model.architecture), pixels: Array.from(pixels), want });
      for (const m of [model, copy]) m.dispose();
    });
  });
});

describe('PyTorch', () => {
  it("every case's checkpoint loads strictly into the registry's modules and gives predict's probabilities (1e-5)", () => {
    // Every case must have got here: one that failed above fails this too, rather than being left out.
    expect(CASES.filter((c) => !forTorch.has(c)).map(name)).toEqual([]);
    const entries = CASES.map((c) => forTorch.get(c)!);
    const cases = join(dir, 'cases.json');
    writeFileSync(cases, JSON.stringify(entries.map(({ file, modules, pixels }) => ({ file, modules, pixels }))));
    const r = spawnSync(PYTHON, ['test/torch_interop.py', 'outputs', cases], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`torch_interop.py outputs failed (${r.status}): ${r.error?.message ?? ''}${r.stderr}`);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as number[][];
    expect(got.length).toBe(CASES.length);
    CASES.forEach((c, i) => expectClose(got[i], entries[i].want, 1e-5, 0, `pytorch ${name(c)}`));
  });
});
