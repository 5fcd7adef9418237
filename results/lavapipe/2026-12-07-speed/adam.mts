// scratch: Adam variants, rounds alternating order, medians.
import { openNodeDevice } from '../../../src/node/gpu.js';
import { Ops } from '../../../src/gpu/ops.js';
import { PipelineCache } from '../../../src/gpu/dispatch.js';
import { compareOptimizerVariants } from '../../../src/bench/kernelVariants.js';
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
