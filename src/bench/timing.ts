// Wall-clock timing of GPU work: repeat a set of dispatches many times in one submission, wait for the queue,
// divide. Warm-up first; the median of several trials, with min and max as the spread.
import { encodeDispatches, type Dispatch } from '../engine/dispatch.js';

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export function summarize(samplesMs: number[]): Timing {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], maxMs: sorted[sorted.length - 1] };
}

/** Time per execution of `dispatches` (in order), each trial running them `repeats` times in one submit. */
export async function timeDispatches(device: GPUDevice, dispatches: Dispatch[], repeats: number, trials = 5): Promise<Timing> {
  const run = async () => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (let r = 0; r < repeats; r++) encodeDispatches(pass, dispatches);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run(); // warm-up: first-use compilation and caches
  const samples: number[] = [];
  for (let t = 0; t < trials; t++) {
    const start = performance.now();
    await run();
    samples.push((performance.now() - start) / repeats);
  }
  return summarize(samples);
}

/** Picks a repeat count so that one trial takes roughly `targetMs`. */
export async function calibratedRepeats(device: GPUDevice, dispatches: Dispatch[], targetMs = 300): Promise<number> {
  const once = await timeDispatches(device, dispatches, 1, 1);
  return Math.max(1, Math.min(200, Math.round(targetMs / Math.max(once.medianMs, 0.01))));
}
