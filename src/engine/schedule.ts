// Learning-rate schedules, computed on the host for each step and written into the optimizer's uniform block
// (no allocation, no extra dispatch). t is the 0-based index of the update in the whole run, T the run's
// number of updates (epochs × steps per epoch), as with a PyTorch scheduler stepped once per batch:
//   constant   lr
//   step       lr · gamma^⌊epoch / everyEpochs⌋                         StepLR stepped once per epoch
//   cosine     minLr + (lr − minLr)·(1 + cos(π·t′/T′))/2                CosineAnnealingLR(T_max = T′)
//   onecycle   cos from lr/divFactor up to lr over pctStart·T − 1 updates, then down to lr/(divFactor·finalDivFactor)
//              at T − 1                                                 OneCycleLR(anneal_strategy='cos'),
//              without its momentum cycling
// constant, step and cosine take a linear warm-up: update t < W uses lr·(t + 1)/W; cosine then runs over
// t′ = t − W of T′ = T − W. Past the end (a later fit), cosine and onecycle hold their final value.
import { BadInputError } from '../errors.js';

/** The learning-rate schedules: as PyTorch's StepLR, CosineAnnealingLR and OneCycleLR, or none ('constant'). */
export type ScheduleKind = 'constant' | 'step' | 'cosine' | 'onecycle';
/** Every ScheduleKind, in the order error messages and the CLI list them. */
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'step', 'cosine', 'onecycle'];

/** A learning-rate schedule over the whole run, scaling the optimizer's lr per step; absent fields take their defaults. */
export interface ScheduleConfig {
  /** Which schedule. */
  kind: ScheduleKind;
  /** Linear warm-up, in epochs (fractions allowed). Default 0. Not for onecycle, which has its own. */
  warmupEpochs?: number;
  /** step: decay every this many epochs (default 1) by gamma (default 0.1). */
  everyEpochs?: number;
  /** step: the factor the learning rate is multiplied by at each decay, in (0, 1]. Default 0.1. */
  gamma?: number;
  /** cosine: the final learning rate. Default 0. */
  minLr?: number;
  /** onecycle: share of the run spent rising (default 0.3), start lr = lr/divFactor (25), end = start/finalDivFactor (1e4). */
  pctStart?: number;
  /** onecycle: the starting learning rate is lr / divFactor, ≥ 1. Default 25. */
  divFactor?: number;
  /** onecycle: the final learning rate is the starting one / finalDivFactor, ≥ 1. Default 1e4. */
  finalDivFactor?: number;
}

/** What a schedule needs to know of the run: its updates per epoch and in all. */
export interface ScheduleClock {
  /** Updates per epoch. */
  stepsPerEpoch: number;
  /** Updates in the whole run. */
  totalSteps: number;
}

export function validateSchedule(s: ScheduleConfig): void {
  const bad = (what: string, value: unknown) => new Error(`schedule ${s.kind}: ${what} out of range: ${value}`);
  if (!SCHEDULE_KINDS.includes(s.kind)) throw new BadInputError(`unknown schedule '${s.kind}': expected ${SCHEDULE_KINDS.join(', ')}`);
  const w = s.warmupEpochs ?? 0;
  if (!(Number.isFinite(w) && w >= 0)) throw bad('warmupEpochs', w);
  if (s.kind === 'onecycle' && w > 0) throw new BadInputError('schedule onecycle has its own warm-up (pctStart); drop warmupEpochs');
  const every = s.everyEpochs ?? 1;
  if (!(Number.isInteger(every) && every >= 1)) throw bad('everyEpochs', every);
  const gamma = s.gamma ?? 0.1;
  if (!(gamma > 0 && gamma <= 1)) throw bad('gamma', gamma);
  const minLr = s.minLr ?? 0;
  if (!(Number.isFinite(minLr) && minLr >= 0)) throw bad('minLr', minLr);
  const pct = s.pctStart ?? 0.3;
  if (!(pct > 0 && pct < 1)) throw bad('pctStart', pct);
  for (const [name, x] of [['divFactor', s.divFactor ?? 25], ['finalDivFactor', s.finalDivFactor ?? 1e4]] as const) {
    if (!(Number.isFinite(x) && x >= 1)) throw bad(name, x);
  }
}

const annealCos = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

/** The learning rate of update t (0-based) of a run, for a base learning rate lr. */
export function scheduledLearningRate(s: ScheduleConfig, lr: number, t: number, clock: ScheduleClock): number {
  const T = Math.max(1, clock.totalSteps);
  if (s.kind === 'onecycle') {
    const start = lr / (s.divFactor ?? 25);
    const end = start / (s.finalDivFactor ?? 1e4);
    const rise = (s.pctStart ?? 0.3) * T - 1;
    const u = Math.min(t, T - 1);
    if (u <= rise) return annealCos(start, lr, rise > 0 ? u / rise : 1);
    return annealCos(lr, end, (u - rise) / Math.max(T - 1 - rise, 1e-12));
  }
  const W = Math.round((s.warmupEpochs ?? 0) * clock.stepsPerEpoch);
  if (t < W) return (lr * (t + 1)) / W;
  switch (s.kind) {
    case 'constant':
      return lr;
    case 'step':
      return lr * (s.gamma ?? 0.1) ** Math.floor(Math.floor(t / clock.stepsPerEpoch) / (s.everyEpochs ?? 1));
    case 'cosine': {
      const minLr = s.minLr ?? 0;
      const span = Math.max(1, T - W);
      return minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * Math.min(t - W, span)) / span))) / 2;
    }
  }
}

/** 'cosine', 'cosine:warmup=1', 'step:every=3:gamma=0.5' → a config (the CLI's form; commas separate sweep values). */
export function parseSchedule(text: string): ScheduleConfig {
  const [kind, ...rest] = text.split(':');
  const config: ScheduleConfig = { kind: kind as ScheduleKind };
  const keys: Record<string, keyof ScheduleConfig> = {
    warmup: 'warmupEpochs', every: 'everyEpochs', gamma: 'gamma', min: 'minLr', pct: 'pctStart', div: 'divFactor', 'final-div': 'finalDivFactor',
  };
  for (const part of rest) {
    const [key, value] = part.split('=');
    const field = keys[key];
    const x = Number(value);
    if (!field || value === undefined || value.trim() === '' || !Number.isFinite(x)) {
      throw new BadInputError(`schedule '${text}': '${part}' is not one of ${Object.keys(keys).map((k) => `${k}=NUMBER`).join(', ')}`);
    }
    (config as unknown as Record<string, number>)[field] = x;
  }
  validateSchedule(config);
  return config;
}

/** The inverse of parseSchedule, for tables and file names. */
export function formatSchedule(s: ScheduleConfig): string {
  const parts = [
    s.warmupEpochs ? `warmup=${s.warmupEpochs}` : '', s.everyEpochs !== undefined ? `every=${s.everyEpochs}` : '',
    s.gamma !== undefined ? `gamma=${s.gamma}` : '', s.minLr ? `min=${s.minLr}` : '', s.pctStart !== undefined ? `pct=${s.pctStart}` : '',
    s.divFactor !== undefined ? `div=${s.divFactor}` : '', s.finalDivFactor !== undefined ? `final-div=${s.finalDivFactor}` : '',
  ].filter(Boolean);
  return [s.kind, ...parts].join(':');
}
