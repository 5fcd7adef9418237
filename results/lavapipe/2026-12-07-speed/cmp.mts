// scratch: compare matmul variants on one shape, rounds alternating order, medians.
// Engine modules from ROOT (default: this checkout), loaded at run time: any checkout can be measured.
const root = (await import('node:path')).resolve(process.env.ROOT ?? process.cwd());
const { openNodeDevice } = await import(`${root}/src/node/gpu.ts`);
const { Ops } = await import(`${root}/src/gpu/ops.ts`);
const { PipelineCache } = await import(`${root}/src/gpu/dispatch.ts`);
const { compareMatmulVariants } = await import(`${root}/src/tuning/matmulVariants.ts`);
const { parseMatmulVariant } = await import(`${root}/shaders/matmul.ts`);
const roundsArg = process.argv[2];
const gpu = await openNodeDevice('lavapipe');
const ops = new Ops(new PipelineCache(gpu.device));
const rounds = Number(roundsArg ?? 3);
for (const spec of process.argv.slice(3)) {
const [shapeArg, names] = spec.split(' ');
const [form, dims, u8] = shapeArg.split(':');
const [M, N, K] = dims.split('x').map(Number);
const variants = names.split(',').map((n) => { const v = parseMatmulVariant(n); if (!v) throw new Error(n); return v; });
const times = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...variants].reverse() : variants;
  const res = await compareMatmulVariants(gpu.device, ops, form as MatmulForm, { M, N, K, inputU8: u8 === 'u8' }, order, { quick: true });
  for (const x of res) {
    if (!x.verified) console.log(`${x.variant}: NOT VERIFIED ${x.skipped ?? ''} ${x.maxError}`);
    if (x.timing) times.set(x.variant, [...(times.get(x.variant) ?? []), x.timing.medianMs]);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [v, t] of times) console.log(`${form} ${dims}${u8 ? ' u8' : ''}  ${v.padEnd(28)} median ${med(t).toFixed(3)} ms  rounds ${t.map((x) => x.toFixed(2)).join(' ')}`);
}
process.exit(0);
