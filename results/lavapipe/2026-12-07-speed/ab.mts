// scratch: the whole step, old lavapipe defaults against new, alternating; MLP and the README's CNN.
// Engine modules from ROOT (default: this checkout), loaded at run time: any checkout can be measured.
const root = (await import('node:path')).resolve(process.env.ROOT ?? process.cwd());
const { openNodeDevice } = await import(`${root}/src/node/gpu.ts`);
const { trainingThroughput } = await import(`${root}/src/bench/step.ts`);
const { Model } = await import(`${root}/src/engine/model.ts`);
const { architectureOf } = await import(`${root}/src/engine/mlp.ts`);
const { parseLayers } = await import(`${root}/src/layers/index.ts`);
const { splitMnist } = await import(`${root}/src/data/mnist.ts`);
const { loadMnist } = await import(`${root}/src/node/mnistFiles.ts`);
const { LAVAPIPE_VARIANTS, DEFAULT_VARIANTS } = await import(`${root}/src/gpu/variants.ts`);
const reg = (form: any, vec4: boolean, r: number, c: number, extra: any = {}) => ({ form, vec4, tileRows: r, tileCols: c, workgroupSize: 64, ...extra });
const OLD: VariantChoices = {
  ...DEFAULT_VARIANTS,
  matmul: { ...DEFAULT_VARIANTS.matmul, tn: [reg('tn', true, 8, 8, { workgroupSize: 128, when: { minOutputs: 1 << 16 } }), reg('tn', false, 8, 4)] },
  matmulByShape: { 'nn 8192×16×200': reg('nn', true, 4, 4), 'nn 128×128×256': reg('nn', false, 8, 4) },
};
const gpu = await openNodeDevice('lavapipe');
const splits = splitMnist(loadMnist());
const rounds = Number(process.argv[2] ?? 3);
const which = (process.argv[3] ?? 'mlp,cnn').split(',');
const cnn = 'conv2d:8:k=5,relu,maxpool2d:2,conv2d:16:k=5,relu,maxpool2d:2,flatten,linear:128,relu,dropout:0.25,linear:10';
const configs = { mlp: architectureOf({ layers: parseLayers("linear:500,relu,linear:10") }), cnn: architectureOf({ layers: parseLayers(cnn) }) };
const results: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 ? ['new', 'old'] : ['old', 'new']) {
    const variants = name === 'new' ? LAVAPIPE_VARIANTS : OLD;
    for (const w of which) {
      const arch = configs[w as 'mlp' | 'cnn'];
      const model = new Model(gpu.device, { layers: arch.layers.map((l) => l.spec), inputs: arch.inputShape, seed: 0, variants });
      const t = await trainingThroughput(model, splits.train, 128, w === 'mlp' ? 60 : 40);
      model.dispose();
      (results[`${w} ${name}`] ??= []).push(t.samplesPerSecond);
      console.log(`round ${r + 1} ${w} ${name}: ${t.samplesPerSecond.toFixed(0)} samples/s, ${t.msPerStep.toFixed(2)} ms/step`);
    }
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [k, v] of Object.entries(results)) console.log(`${k}: median ${med(v).toFixed(0)} samples/s (${v.map((x) => x.toFixed(0)).join(', ')})`);
process.exit(0);
