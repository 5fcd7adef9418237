// The training curve from the engine's progress points. Each point carries the epoch's running means so far
// (loss and accuracy over its first `samples` images); two consecutive points of one epoch give the exact means
// over the images between them: (mean₂·samples₂ − mean₁·samples₁) / (samples₂ − samples₁). So the chart shows
// what the network did in each interval instead of a mean that restarts every epoch.

export interface ProgressPoint {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  samples: number;
  loss: number;
  accuracy: number;
}

export interface IntervalMean {
  /** Steps since the run's first, epochs continuing: (epoch − 1) · stepsPerEpoch + step. */
  globalStep: number;
  /** Steps and images in the interval (the last interval of an epoch can be short). */
  steps: number;
  images: number;
  loss: number;
  accuracy: number;
}

export class IntervalMeans {
  private last: ProgressPoint | undefined;

  reset(): void {
    this.last = undefined;
  }

  add(point: ProgressPoint): IntervalMean {
    // An epoch's first point, or one from an epoch started again (a resumed run), measures from the epoch's start.
    const sameEpoch = this.last && this.last.epoch === point.epoch && this.last.step < point.step;
    const before = sameEpoch ? this.last! : { step: 0, samples: 0, loss: 0, accuracy: 0 };
    this.last = point;
    const images = point.samples - before.samples;
    return {
      globalStep: (point.epoch - 1) * point.stepsPerEpoch + point.step,
      steps: point.step - before.step,
      images,
      loss: (point.loss * point.samples - before.loss * before.samples) / images,
      accuracy: (point.accuracy * point.samples - before.accuracy * before.samples) / images,
    };
  }
}

/**
 * An exponential moving average with a decay per training step (so a short interval counts for less), divided
 * by the weight the average has gathered so far: without that debiasing the first values would be pulled
 * towards zero, as Adam's moments would.
 */
export function smoothed(values: number[], steps: number[], decayPerStep = 0.95): number[] {
  let average = 0;
  let weight = 0;
  return values.map((v, i) => {
    const decay = decayPerStep ** steps[i];
    average = decay * average + (1 - decay) * v;
    weight = decay * weight + (1 - decay);
    return average / weight;
  });
}
