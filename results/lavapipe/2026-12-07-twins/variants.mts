// For one product, each variant's first run (its compile, with Mesa's shader cache empty) less its second, and its
// time (GPU timestamps, median), on lavapipe:
//   MESA_SHADER_CACHE_DIR=$(mktemp -d) npx tsx results/lavapipe/2026-12-07-twins/variants.mts nn 128,500,784 u8 bias+relu nn-vec4-16x8-wg64 nn-vec4-8x4-wg64 …
const root = (await import('node:path')).resolve(process.env.ROOT ?? process.cwd());
const E = await import(`${root}/src/node/index.ts`);
const { Ops } = await import(`${root}/src/gpu/ops.ts`);
const { PipelineCache, encodeDispatches } = await import(`${root}/src/gpu/dispatch.ts`);
const { parseMatmulVariant } = await import(`${root}/shaders/matmul.ts`);
const { storageBuffer } = await import(`${root}/src/gpu/buffers.ts`);
const { calibratedRepeats, timeDispatches } = await import(`${root}/src/tuning/timing.ts`);
const { relu } = await import(`${root}/src/layers/relu.ts`);
const reluOp = relu.elementwise!({ kind: 'relu' } as any);
const [form, sizes, u8, epi, ...names] = process.argv.slice(2);
const [M, N, K] = sizes.split(',').map(Number);
const gpu = await E.openNodeDevice('lavapipe');
const device = gpu.device;
const ops = new Ops(new PipelineCache(device));
const buf = (n: number) => storageBuffer(device, n * 4, 'x');
const A = buf(M * K), B = buf(K * N), C = buf(M * N), bias = buf(N);
async function once(d: any) {
  const t = performance.now();
  const enc = device.createCommandEncoder(); const pass = enc.beginComputePass(); encodeDispatches(pass, [d]); pass.end();
  device.queue.submit([enc.finish()]); await device.queue.onSubmittedWorkDone();
  return performance.now() - t;
}
for (const name of names) {
  const variant = parseMatmulVariant(name);
  const o: any = { variant, inputU8: u8 === 'u8' };
  if (epi === 'bias+relu') { o.epilogue = 'biasActivation'; o.activation = { op: reluOp }; o.extra = { buffer: bias }; }
  else if (epi === 'bias') { o.epilogue = 'bias'; o.extra = { buffer: bias }; }
  const d = ops.matmul(form, { buffer: C }, { buffer: A }, { buffer: B }, M, N, K, o);
  const first = await once(d); const second = await once(d);
  const t = await timeDispatches(device, [d], await calibratedRepeats(device, [d], 200));
  console.log(`${name.padEnd(24)} compile ≈ ${(first - second).toFixed(0).padStart(5)} ms   run ${t.medianMs.toFixed(3)} ms`);
}
process.exit(0);
