// Timing of GPU work: repeat a set of dispatches many times in one compute pass, then divide. With the
// adapter's `timestamp-query` the GPU's own clock times the pass; otherwise the wall clock from submit to
// `onSubmittedWorkDone`. Warm-up first; the median of several trials, with min and max as the spread.
import { encodeDispatches, type Dispatch } from '../gpu/dispatch.js';

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Which clock: the GPU's timestamps, or the host's wall clock. */
  clock: 'timestamp' | 'wall';
}

export function summarize(samplesMs: number[], clock: Timing['clock']): Timing {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], maxMs: sorted[sorted.length - 1], clock };
}

/** Two timestamps around a pass, resolved and read back (benchmark only: it allocates). */
class PassTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly readback: GPUBuffer;

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
    this.resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  }

  get writes(): GPUComputePassTimestampWrites {
    return { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
  }

  afterPass(encoder: GPUCommandEncoder): void {
    encoder.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
    encoder.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16);
  }

  /** Milliseconds between the two timestamps, or null when the clock gave nothing usable. */
  async elapsedMs(): Promise<number | null> {
    await this.readback.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    const ns = Number(end - begin);
    return end > begin && Number.isFinite(ns) ? ns / 1e6 : null;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
    this.readback.destroy();
  }
}

/** Time per execution of `dispatches` (in order), each trial running them `repeats` times in one pass. */
export async function timeDispatches(device: GPUDevice, dispatches: Dispatch[], repeats: number, trials = 5): Promise<Timing> {
  const timer = device.features.has('timestamp-query') ? new PassTimer(device) : null;
  // The warm-up decides the clock for every sample: a median is never taken over two clocks.
  let useTimer = timer !== null;
  const run = async (): Promise<number | null> => {
    const start = performance.now();
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass(useTimer ? { timestampWrites: timer!.writes } : {});
    for (let r = 0; r < repeats; r++) encodeDispatches(pass, dispatches);
    pass.end();
    if (useTimer) timer!.afterPass(encoder);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    const wallMs = performance.now() - start;
    if (!useTimer) return wallMs / repeats;
    const gpuMs = await timer!.elapsedMs();
    return gpuMs === null ? null : gpuMs / repeats;
  };
  try {
    if ((await run()) === null) useTimer = false; // warm-up: first-use compilation and caches
    const samples: number[] = [];
    while (samples.length < trials) {
      const ms = await run();
      if (ms !== null) {
        samples.push(ms);
      } else {
        useTimer = false; // the clock stopped answering: start the samples over on the wall clock
        samples.length = 0;
      }
    }
    return summarize(samples, useTimer ? 'timestamp' : 'wall');
  } finally {
    timer?.destroy();
  }
}

/** Picks a repeat count so that one trial takes roughly `targetMs`. */
export async function calibratedRepeats(device: GPUDevice, dispatches: Dispatch[], targetMs = 300): Promise<number> {
  const once = await timeDispatches(device, dispatches, 1, 1);
  return Math.max(1, Math.min(200, Math.round(targetMs / Math.max(once.medianMs, 0.01))));
}
