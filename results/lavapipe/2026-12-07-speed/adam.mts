// scratch: Adam variants, rounds alternating order, medians.
// Engine modules from ROOT (default: this checkout), loaded at run time: any checkout can be measured.
const root = (await import('node:path')).resolve(process.env.ROOT ?? process.cwd());
const { openNodeDevice } = await import(`${root}/src/node/gpu.ts`);
const { Ops } = await import(`${root}/src/gpu/ops.ts`);
const { PipelineCache } = await import(`${root}/src/gpu/dispatch.ts`);
const { compareOptimizerVariants } = await import(`${root}/src/bench/kernelVariants.ts`);
const gpu = await openNodeDevice('lavapipe');
const ops = new Ops(new PipelineCache(gpu.device));
const rounds = Number(process.argv[2] ?? 5);
const length = Number(process.argv[3] ?? 397632);
const cands = [64, 128, 256, 512, 1024].map((w) => ({ vec4: true, workgroupSize: w }));
const times = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  const res = await compareOptimizerVariants(gpu.device, ops, length, true, r % 2 ? [...cands].reverse() : cands);
  for (const x of res) { if (!x.verified) console.log(`${x.variant} NOT VERIFIED`); if (x.timing) times.set(x.variant, [...(times.get(x.variant) ?? []), x.timing.medianMs]); }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [v, t] of times) console.log(`adam ${length}  ${v.padEnd(24)} median ${med(t).toFixed(3)} ms  rounds ${t.map((x) => x.toFixed(2)).join(' ')}`);
process.exit(0);
