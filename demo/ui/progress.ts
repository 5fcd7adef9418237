// Training progress: epoch and step counters, a progress bar, throughput, epoch time and a per-epoch log.
import { byId, el, integer, percent, showFraction } from './dom.js';

export class ProgressView {
  private readonly text = byId('progress-text');
  private readonly bar = byId<HTMLProgressElement>('progress-bar');
  private readonly speed = byId('samples-per-second');
  private readonly epochTime = byId('epoch-time');
  /** From pressing Train (MNIST in memory) to the GPU finishing the run's first step: the start-up a user waits. */
  private readonly firstStep = byId('first-step');
  private readonly valAccuracy = byId('val-accuracy');
  private readonly log = byId<HTMLTableSectionElement>('epoch-log');
  private epochs = 1;
  private epochStarted = 0;
  private lastEpochSeconds: number | undefined;
  private timer: number | undefined;

  start(epochs: number): void {
    this.reset();
    this.epochs = epochs;
    this.text.textContent = `epoch 1/${epochs} · preparing…`;
    this.epochStarted = performance.now();
    // Ticks the running epoch's clock between step messages (they come every 10 steps).
    this.timer = window.setInterval(() => this.showEpochTime(), 250);
  }

  step(epoch: number, step: number, stepsPerEpoch: number, samplesPerSecond: number): void {
    if (step === 1) this.epochStarted = performance.now();

    this.text.textContent = `epoch ${epoch}/${this.epochs} · step ${step}/${stepsPerEpoch}`;
    this.bar.max = this.epochs * stepsPerEpoch;
    this.bar.value = (epoch - 1) * stepsPerEpoch + step;
    if (samplesPerSecond > 0) this.speed.textContent = integer(samplesPerSecond);
  }

  /** The worker's figure for the run's first step (model built, kernels compiled, the step done on the GPU). */
  firstStepDone(ms: number): void {
    this.firstStep.textContent = ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
    this.firstStep.dataset.ms = String(Math.round(ms));
  }

  epoch(e: { epoch: number; trainLoss: number; valLoss: number; valAccuracy: number; seconds: number; samplesPerSecond: number }): void {
    this.lastEpochSeconds = e.seconds;
    this.epochStarted = performance.now();
    this.speed.textContent = integer(e.samplesPerSecond);
    showFraction(this.valAccuracy, e.valAccuracy);
    const row = el('tr');
    for (const text of [String(e.epoch), e.trainLoss.toFixed(4), e.valLoss.toFixed(4), percent(e.valAccuracy), `${e.seconds.toFixed(1)} s`, integer(e.samplesPerSecond)]) {
      row.append(el('td', '', text));
    }
    this.log.append(row);
    this.showEpochTime();
  }

  /** Training ended (done, stopped, failed or reset): stop the clock, keep the numbers. */
  finish(message: string): void {
    window.clearInterval(this.timer);
    this.timer = undefined;
    this.text.textContent = message;
    this.showEpochTime();
  }

  /** Training goes on after an interruption (a lost device): the clock again, the log kept. */
  resume(): void {
    window.clearInterval(this.timer);
    this.text.textContent = 'resuming…';
    this.epochStarted = performance.now();
    this.timer = window.setInterval(() => this.showEpochTime(), 250);
  }

  reset(): void {
    window.clearInterval(this.timer);
    this.timer = undefined;
    this.lastEpochSeconds = undefined;
    this.text.textContent = 'not started';
    this.bar.value = 0;
    this.bar.max = 1;
    this.speed.textContent = '–';
    this.epochTime.textContent = '–';
    this.firstStep.textContent = '–';
    delete this.firstStep.dataset.ms;
    showFraction(this.valAccuracy, undefined);
    this.log.replaceChildren();
  }

  private showEpochTime(): void {
    const last = this.lastEpochSeconds === undefined ? '' : `last ${this.lastEpochSeconds.toFixed(1)} s`;
    const running = this.timer === undefined ? '' : `this one ${((performance.now() - this.epochStarted) / 1000).toFixed(1)} s`;
    this.epochTime.textContent = [running, last].filter(Boolean).join(' · ') || '–';
  }
}
