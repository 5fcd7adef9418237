// What `train:browser` (src/cli/trainBrowser.ts) and its page (src/pages/headless.ts) say to each other: the run
// goes in the URL (?config=JSON), progress comes out through window.report, which Puppeteer exposes.
import type { AdapterDescription } from '../gpu/device.js';
import type { EpochInfo, Evaluation, StepInfo } from '../engine/model.js';
import type { RunRecipe } from '../engine/recipe.js';

export const HEADLESS_PAGE = '/src/pages/headless.html';

export type HeadlessMessage =
  | { kind: 'adapter'; adapter: AdapterDescription; note: string }
  | { kind: 'describe'; parameters: number; train: number; validation: number; test: number }
  | { kind: 'step'; step: StepInfo }
  | { kind: 'epoch'; epoch: EpochInfo }
  | { kind: 'test'; test: Evaluation; trainSeconds: number }
  | { kind: 'error'; message: string };

export type HeadlessReport = (message: HeadlessMessage) => Promise<void>;

/** The page's address for a run. */
export const headlessUrl = (origin: string, run: RunRecipe): string => `${origin}${HEADLESS_PAGE}?config=${encodeURIComponent(JSON.stringify(run))}`;

/** The run a page was opened with. */
export const headlessRun = (search: string): RunRecipe => JSON.parse(new URLSearchParams(search).get('config') ?? '{}') as RunRecipe;
