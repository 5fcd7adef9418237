// The augmentation kernels (./gpu.ts, with shaders/augment.ts and shaders/elastic.ts) load on the first fit that
// distorts its batches, through a dynamic import: a page that never augments does not download them.
export type AugmentKernels = typeof import('./gpu.js');

let loaded: AugmentKernels | undefined;

/** Loads the augmentation kernels once; later calls resolve at once. */
export async function loadAugmentKernels(): Promise<AugmentKernels> {
  return (loaded ??= await import('./gpu.js'));
}

/** The loaded augmentation kernels, for a plan built after `loadAugmentKernels()` (fit awaits it first). */
export function augmentKernels(): AugmentKernels {
  if (!loaded) throw new Error('augmentKernels: the augmentation kernels are not loaded yet; await loadAugmentKernels() first');
  return loaded;
}
