// The demo page's state as one record: every mode the page can be in, what each mode holds, and what each
// allows. demo/main.ts keeps one `Mode` and moves it on the user's clicks and the worker's replies:
//
//   unsupported                        no WebGPU here (final)
//   loading     → idle                 'ready': the GPU is open and MNIST is in memory
//               → error                the worker could not start (final, as after any crash)
//   idle        → training             Train (a new run), Resume (the run a lost device interrupted)
//               → idle + task          Load, Save, Reset, Bench, Run queue: one request in flight, then idle again
//   training    → training + ending    Stop (test the model as it is) or Reset (discard it)
//               → idle                 'done' (with a model), 'reset', 'deviceLost' (resumable), a failure
//
// The worker runs one long job at a time, so the page never has two requests of these in flight.
import type { RunRecipe } from '../src/engine/recipe.js';

/** A training run as the page follows it: its recipe and the steps per epoch it last reported (0 before the first). */
export interface RunProgress {
  run: RunRecipe;
  stepsPerEpoch: number;
}

/** A request the worker serves while the page is otherwise idle (nothing else starts until it ends). */
export type IdleTask = 'loadingFile' | 'saving' | 'resetting' | 'benching' | 'experimenting';

export type Mode =
  /** No WebGPU here: the notice replaces the app. */
  | { name: 'unsupported' }
  /** The worker opens the GPU and loads MNIST; the form may be filled in meanwhile. */
  | { name: 'loading' }
  /** The worker could not start, or stopped: the page says so and waits for a reload. */
  | { name: 'error' }
  /**
   * Waiting for the user. `model`: the worker holds a trained or loaded model (predictions, Save).
   * `interrupted`: the run a lost device stopped, which Resume goes on with. `task`: a request in flight.
   */
  | { name: 'idle'; model: boolean; interrupted?: RunProgress; task?: IdleTask }
  /** A run trains; `ending` once Stop (then test the model) or Reset (then discard it) was pressed. */
  | { name: 'training'; progress: RunProgress; ending?: 'stop' | 'reset' };

/** The body's data-state (styles and the page's tests read it): an idle page is 'done' once it holds a model. */
export function dataState(mode: Mode): 'unsupported' | 'loading' | 'error' | 'ready' | 'done' | 'training' {
  return mode.name === 'idle' ? (mode.model ? 'done' : 'ready') : mode.name;
}

/** Idle with nothing in flight: any new request may start. */
export const isFree = (mode: Mode) => mode.name === 'idle' && mode.task === undefined;

/**
 * Whether a drawing may be sent for prediction: the worker answers nothing without a model, so never while one is
 * trained, loaded or dropped; nor while benchmarking, whose timings a prediction's GPU work would skew.
 */
export const canPredict = (mode: Mode) =>
  mode.name === 'idle' && mode.model && mode.task !== 'loadingFile' && mode.task !== 'resetting' && mode.task !== 'benching';

/** Which controls each mode enables. */
export function controlsOf(mode: Mode) {
  const free = isFree(mode);
  const training = mode.name === 'training';
  return {
    train: free,
    stop: training && mode.ending === undefined,
    reset: free || (training && mode.ending !== 'reset'),
    resume: free,
    save: free && mode.name === 'idle' && mode.model,
    modelFile: free,
    /** The training settings: editable while idle, and while the page loads. */
    form: free || mode.name === 'loading',
    experimenting: mode.name === 'idle' && mode.task === 'experimenting',
    benching: mode.name === 'idle' && mode.task === 'benching',
  };
}

/** The drawing pad's hint for a mode. */
export function predictionHint(mode: Mode): string {
  if (mode.name === 'training') return 'Predictions start when training ends.';
  if (mode.name === 'idle' && mode.task === 'benching') return 'Predictions resume when the benchmark ends.';
  if (mode.name === 'idle' && mode.model) return 'Draw a digit big and centred, as on paper.';
  return 'Train or load a model first; then draw a digit here.';
}
