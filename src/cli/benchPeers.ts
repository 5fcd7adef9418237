// npm run bench:peers -- [--model mlp|cnn] [--steps 40] [--warmup 3] [--batch-size 128] [--only tfjs,jax,engine] [--timeout 300] [--json FILE]
// The same network (the 784-500-10 MLP, or TensorFlow.js's browser MNIST CNN) trained by TensorFlow.js (webgpu backend), jax-js (webgpu, jitted step) and this
// engine, one after the other in ONE headless Chromium on the same WebGPU adapter, from the same initial
// weights on the same batches in the same order (src/pages/peers/problem.ts). Prints samples/s, ms/step and the
// losses side by side. A peer that fails is reported as failed; only a failure of this engine is an error.
import { readFileSync } from 'node:fs';
import { checkOutputs, writeFileAtomic } from '../node/files.js';
import { availableParallelism, cpus } from 'node:os';
import { formatAdapter, type AdapterDescription } from '../gpu/device.js';
import { ENGINE_VERSION } from '../version.js';
import { launchChromium, startViteServer } from '../node/chromium.js';
import { PEER_MODELS, SYSTEMS, type PeerModel, type PeerResult, type PeersConfig, type PeersMessage, type SystemName } from '../pages/peers/protocol.js';
import { choiceFlag, intFlag, parseFlags, runMain, UsageError } from './args.js';
import { fmt, int, table } from './report.js';

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

const NAMES: Record<SystemName, string> = {
  tfjs: `TensorFlow.js ${packageVersion('@tensorflow/tfjs')} (webgpu backend)`,
  jax: `jax-js ${packageVersion('@jax-js/jax')} (webgpu, jit step)`,
  engine: `this engine ${ENGINE_VERSION} (Model.fit)`,
};

function parseConfig(): { config: PeersConfig; json?: string } {
  const flags = parseFlags({
    steps: { type: 'string' }, warmup: { type: 'string' }, 'batch-size': { type: 'string' }, only: { type: 'string' },
    timeout: { type: 'string' }, seed: { type: 'string' }, json: { type: 'string' }, model: { type: 'string' },
  });
  const model = choiceFlag('model', flags.model, Object.keys(PEER_MODELS) as PeerModel[], 'mlp');
  const only = (flags.only ?? SYSTEMS.join(',')).split(',').filter(Boolean);
  for (const name of only) if (!SYSTEMS.includes(name as SystemName)) throw new UsageError(`--only takes ${SYSTEMS.join(', ')}, got '${name}'`);
  if (only.length === 0) throw new UsageError('--only names no system');
  const config: PeersConfig = {
    model,
    steps: intFlag('steps', flags.steps, 40),
    warmup: intFlag('warmup', flags.warmup, 3),
    batchSize: intFlag('batch-size', flags['batch-size'], 128),
    only: [...new Set(only)] as SystemName[],
    seed: intFlag('seed', flags.seed, 0, 0),
    timeoutSeconds: intFlag('timeout', flags.timeout, 300),
  };
  if ((config.warmup + config.steps) * config.batchSize > 55_000) throw new UsageError('(--warmup + --steps) × --batch-size must stay within the 55,000 training images');
  return { config, json: flags.json };
}

/** Fraction of all CPU time spent busy over the next `ms` milliseconds. */
async function cpuBusy(ms: number): Promise<number> {
  const total = () => cpus().reduce((t, c) => ({ idle: t.idle + c.times.idle, all: t.all + Object.values(c.times).reduce((a, b) => a + b, 0) }), { idle: 0, all: 0 });
  const before = total();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = total();
  return 1 - (after.idle - before.idle) / Math.max(after.all - before.all, 1);
}

/** Runs the page and collects its messages until it says it is done. */
async function runPage(config: PeersConfig, onMessage: (m: PeersMessage) => void): Promise<void> {
  const { server, origin } = await startViteServer(['src/pages/peers.html']);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const done = new Promise<void>((resolve, reject) => {
      page.on('pageerror', (e) => reject(new Error(`page error: ${(e as Error).message}`)));
      page.on('error', (e) => reject(new Error(`page crashed: ${e.message}`)));
      if (process.env.DEBUG) page.on('console', (m) => console.error(`page ${m.type()}: ${m.text()}`));
      void page.exposeFunction('report', (m: PeersMessage) => {
        if (m.kind === 'done') resolve();
        else if (m.kind === 'error') reject(new Error(m.message));
        else onMessage(m);
      });
    });
    await page.goto(`${origin}/src/pages/peers.html?config=${encodeURIComponent(JSON.stringify(config))}`);
    await done;
  } finally {
    await browser.close();
    await server.close();
  }
}


const USAGE = `usage: npm run bench:peers -- [--model mlp|cnn] [--steps 40] [--warmup 3] [--batch-size 128] [--only tfjs,jax,engine] [--timeout 300] [--json FILE]
Trains the same model on the same batches in this engine, TensorFlow.js (webgpu) and jax-js in one headless Chromium.`;

async function main(): Promise<void> {
  const { config, json } = parseConfig();
  // Before the runs, not after them.
  checkOutputs({ json });
  console.log(
    `model: ${config.model === 'cnn' ? '1×28×28' : '784'} → ${PEER_MODELS[config.model ?? 'mlp']}, softmax cross-entropy, Adam lr 1e-3 (0.9, 0.999, 1e-8), batch ${config.batchSize}, pixels x/255, seed ${config.seed}; ` +
      `${config.warmup} warm-up + ${config.steps} timed steps per system, same weights, batches and order for all`,
  );
  // The adapter is software on the CPU: anything else running on the host slows every system down.
  const host = { cpus: availableParallelism(), busyBefore: await cpuBusy(1000) };
  console.log(`host: ${host.cpus} CPU threads, ${(100 * host.busyBefore).toFixed(0)}% busy in the second before the run${host.busyBefore > 0.25 ? ' (other work is running: timings will be noisy)' : ''}`);
  let adapter: AdapterDescription | undefined;
  let userAgent = '';
  const results: PeerResult[] = [];
  await runPage(config, (m) => {
    if (m.kind === 'adapter') {
      // A second 'adapter' means the page started over (the dev server reloads it when it re-bundles a dependency).
      if (adapter) console.log('the page restarted; starting over');
      results.length = 0;
      adapter = m.adapter;
      userAgent = m.userAgent;
      console.log(`adapter: ${formatAdapter(m.adapter)} — navigator.gpu in headless ${userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? 'Chromium'}`);
    } else if (m.kind === 'status') console.log(`running ${m.text}`);
    else if (m.kind === 'result') {
      results.push(m.result);
      const r = m.result;
      console.log(r.error ? `  ${r.system}: FAILED: ${r.error}` : `  ${r.system}: ${int(r.samplesPerSecond!)} samples/s, ${fmt(r.msPerStep!, 1)} ms/step, loss ${fmt(r.firstLoss!)} → ${fmt(r.loss!)} (${r.detail})`);
    }
  });

  const engine = results.find((r) => r.system === 'engine' && !r.error);
  const ratio = (r: PeerResult) => (engine && !r.error ? engine.samplesPerSecond! / r.samplesPerSecond! : undefined);
  console.log('');
  console.log(table(
    ['system', 'samples/s', 'ms/step', 'first-step loss', `mean loss, timed steps`, 'engine speed-up'],
    results.map((r) =>
      r.error
        ? [NAMES[r.system], `FAILED: ${r.error}`]
        : [NAMES[r.system], int(r.samplesPerSecond!), fmt(r.msPerStep!, 1), fmt(r.firstLoss!), fmt(r.loss!), ratio(r) === undefined ? '-' : `${ratio(r)!.toFixed(2)}×`],
    ),
  ));
  if (engine) {
    for (const r of results) if (r.system !== 'engine' && !r.error) console.log(`this engine trains ${ratio(r)!.toFixed(2)}× as many samples/s as ${NAMES[r.system]}`);
  }

  if (json) {
    const out = {
      config, host, adapter, userAgent, versions: { tfjs: packageVersion('@tensorflow/tfjs'), jax: packageVersion('@jax-js/jax'), engine: ENGINE_VERSION },
      results: results.map((r) => ({ ...r, name: NAMES[r.system], engineSpeedup: ratio(r) })),
    };
    writeFileAtomic(json, JSON.stringify(out, null, 2) + '\n', 'json');
    console.log(`results: ${json}`);
  }
  const engineFailure = results.find((r) => r.system === 'engine' && r.error);
  if (engineFailure) throw new Error(`this engine failed: ${engineFailure.error}`);
}

runMain('bench:peers', main, USAGE);
