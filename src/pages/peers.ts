// The page of `npm run bench:peers`: trains the same MLP with each system in turn (src/pages/peers/*.ts, one
// trainer per file) and reports each result through window.report. Config comes in the URL (?config=JSON).
import { parseMnist, splitMnist } from '../data/mnist.js';
import { fetchMnistBytes } from '../data/mnistFetch.js';
import { describeAdapter } from '../gpu/device.js';
import { makeProblem, type Measurement, type Problem } from './peers/problem.js';
import type { PeerResult, PeersConfig, PeersMessage, SystemName } from './peers/protocol.js';

type Report = (message: PeersMessage) => Promise<void>;
type Trainer = { train: (p: Problem) => Promise<Measurement> };

// Each trainer is its own chunk: a library that fails to load fails only its own system.
const TRAINERS: Record<SystemName, () => Promise<Trainer>> = {
  tfjs: () => import('./peers/tfjs.js'),
  jax: () => import('./peers/jax.js'),
  engine: () => import('./peers/engine.js'),
};

async function main(report: Report): Promise<void> {
  const config = JSON.parse(new URLSearchParams(location.search).get('config') ?? '{}') as PeersConfig;
  const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter in this browser');
  await report({ kind: 'adapter', adapter: describeAdapter(adapter), userAgent: navigator.userAgent });
  // Load every trainer before training starts, so no module loads (or dev-server re-optimization) mid-run.
  const loaded = Object.fromEntries(config.only.map((name) => [name, TRAINERS[name]().catch((e: Error) => e)]));
  const problem = makeProblem(splitMnist(parseMnist(await fetchMnistBytes({ gzip: true }))).train, config);
  for (const system of config.only) {
    await report({ kind: 'status', text: `${system}: ${config.warmup} warm-up + ${config.steps} timed steps` });
    await report({ kind: 'result', result: await run(system, await loaded[system], problem) });
  }
  await report({ kind: 'done' });
}

async function run(system: SystemName, trainer: Trainer | Error, p: Problem): Promise<PeerResult> {
  const { steps, batchSize } = p.config;
  try {
    if (trainer instanceof Error) throw trainer;
    const m = await withTimeout(trainer.train(p), p.config.timeoutSeconds, system);
    return { system, steps, batchSize, ...m, samplesPerSecond: (steps * batchSize) / m.seconds, msPerStep: (1000 * m.seconds) / steps };
  } catch (e) {
    return { system, steps, batchSize, error: (e as Error)?.message ?? String(e) };
  }
}

function withTimeout<T>(work: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const report = (window as unknown as { report?: Report }).report ?? (async (m: PeersMessage) => console.log(m));
main(report).catch((e: Error) => report({ kind: 'error', message: e?.message ?? String(e) }));
