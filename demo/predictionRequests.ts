// Predictions of the drawing pad: one request in the worker at a time and the newest drawing waiting for it;
// requests that replace or drop the worker's model (train, load, reset, bench) wait for the one in flight,
// which uses that model.
import type { ToWorker } from './protocol.js';

type Send = (message: ToWorker, transfer?: Transferable[]) => void;

export class PredictionRequests {
  private inFlight = false;
  /** The newest drawing not yet sent. */
  private pending?: Uint8Array;
  /** Requests held until the prediction in flight is answered. */
  private held: [ToWorker, Transferable[]][] = [];

  /** `allowed`: whether the worker's model may answer now (demo/state.ts canPredict). */
  constructor(private readonly send: Send, private readonly allowed: () => boolean) {}

  /** A prediction is in the worker: an error now is most likely its own. */
  get busy(): boolean {
    return this.inFlight;
  }

  /** Asks about `pixels` as soon as the worker is free for it (a newer drawing replaces a waiting one). */
  ask(pixels: Uint8Array): void {
    this.pending = pixels;
    this.pump();
  }

  /** Forgets the drawing that waits (the pad was cleared, or the model is being replaced). */
  drop(): void {
    this.pending = undefined;
  }

  /** Sends a request that replaces or drops the model once no prediction is using it. */
  whenModelFree(message: ToWorker, transfer: Transferable[] = []): void {
    if (this.inFlight) this.held.push([message, transfer]);
    else this.send(message, transfer);
  }

  /** The prediction in flight was answered (or failed): send what waited for it, then the newest drawing. */
  settled(): void {
    this.inFlight = false;
    const held = this.held;
    this.held = [];
    for (const [message, transfer] of held) this.send(message, transfer);
    this.pump();
  }

  /** Sends the waiting drawing when nothing is in flight and the model may answer. */
  pump(): void {
    if (this.inFlight || !this.pending || !this.allowed()) return;
    const pixels = this.pending;
    this.pending = undefined;
    this.inFlight = true;
    this.send({ type: 'predict', pixels }, [pixels.buffer]);
  }
}
