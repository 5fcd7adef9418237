// One epoch of the README's CNN on 5,000 MNIST images on lavapipe, its defaults with quick twins on or off;
// prints the fit's seconds and each step's wall time (from one onStep to the next, ms).
//   npx tsx results/lavapipe/2026-12-07-twins/epoch.mts on|off
// Engine modules from ROOT (default: this checkout), loaded at run time: any checkout can be measured.
const root = (await import('node:path')).resolve(process.env.ROOT ?? process.cwd());
const E = await import(`${root}/src/node/index.ts`);
const { LAVAPIPE_VARIANTS } = await import(`${root}/src/gpu/variants.ts`);
const twins = process.argv[2] === 'on';
const gpu = await E.openNodeDevice('lavapipe');
const all = await E.loadMnist();
const train = E.sliceDataset(all.train, 0, 5000);
const cnn = 'conv2d:8:k=5,relu,maxpool2d:2,conv2d:16:k=5,relu,maxpool2d:2,flatten,linear:128,relu,dropout:0.25,linear:10';
const model = new E.Model(gpu.device, { layers: E.parseLayers(cnn), inputs: [1, 28, 28], seed: 0, variants: { ...LAVAPIPE_VARIANTS, quickTwins: twins } });
const steps: number[] = [];
const start = performance.now();
let last = start;
await model.fit(train, { epochs: 1, batchSize: 128, optimizer: { kind: 'adam', lr: 0.001 }, onStep: () => { const now = performance.now(); steps.push(now - last); last = now; } });
console.log(`twins ${twins ? 'on ' : 'off'}  epoch ${((performance.now() - start) / 1000).toFixed(2)} s  steps (ms): ${steps.map((t) => t.toFixed(0)).join(' ')}`);
process.exit(0);
