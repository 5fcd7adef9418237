// What `npm run bench:peers` (src/cli/benchPeers.ts) and its page (src/pages/peers.ts) exchange: the config goes in
// the page's URL (?config=JSON), messages come back through window.report (exposed by Puppeteer).
import type { AdapterDescription } from '../../gpu/device.js';

export const SYSTEMS = ['tfjs', 'jax', 'engine'] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** The networks the peers train: the reference MLP, and TensorFlow.js's own browser MNIST CNN. */
export const PEER_MODELS = {
  mlp: 'linear:500,relu,linear:10',
  cnn: 'conv2d:8:k=5,relu,maxpool2d:2,conv2d:16:k=5,relu,maxpool2d:2,flatten,linear:10',
} as const;
export type PeerModel = keyof typeof PEER_MODELS;

export interface PeersConfig {
  /** Which network (PEER_MODELS); default the MLP. */
  model?: PeerModel;
  /** Timed steps per system. */
  steps: number;
  /** Untimed steps first (shader compilation, jit tracing, first allocations). */
  warmup: number;
  batchSize: number;
  /** Systems to run, in this order. */
  only: SystemName[];
  /** Seeds the shared initial weights and batch order (the engine's Model seed). */
  seed: number;
  /** A system still running after this many seconds is reported as failed and the next one starts. */
  timeoutSeconds: number;
}

/** One system's run: timings of the timed window, and losses as a check that it trains. */
export interface PeerResult {
  system: SystemName;
  /** How it ran, as the system itself reports it (backend, device). */
  detail?: string;
  steps: number;
  batchSize: number;
  /** Wall time of the timed steps, final readback included. */
  seconds?: number;
  samplesPerSecond?: number;
  msPerStep?: number;
  /** Loss of the very first (warm-up) step: the same initial weights and batch everywhere, so ≈ equal. */
  firstLoss?: number;
  /** Mean training loss over the timed steps. */
  loss?: number;
  /** Set when the system failed; the other fields may be missing. */
  error?: string;
}

export type PeersMessage =
  | { kind: 'adapter'; adapter: AdapterDescription; userAgent: string }
  | { kind: 'status'; text: string }
  | { kind: 'result'; result: PeerResult }
  | { kind: 'done' }
  | { kind: 'error'; message: string };
