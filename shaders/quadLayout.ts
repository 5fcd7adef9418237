// The size of the quad layout (src/augment/quads.ts), on its own so that keeping a data set as quads does not load
// the augmentation kernels (shaders/augment.ts) with it.

/** u32 words of one image in the quad layout: (H + 1) × (W + 1) cells of C words. */
export const quadWordsPerImage = (channels: number, height: number, width: number): number => (height + 1) * (width + 1) * channels;
