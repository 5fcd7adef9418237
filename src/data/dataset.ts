// A labelled image set held on the host as raw u8 pixels, row-major: images[count × features].
import { BadInputError } from '../errors.js';

export interface Dataset {
  name: string;
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  /** Pixels per image (784 for MNIST). */
  features: number;
}

export function checkDataset(d: Dataset, features: number, classes: number): void {
  if (d.features !== features) throw new BadInputError(`${d.name}: images have ${d.features} pixels, the model takes ${features}`, { file: d.name });
  if (d.images.length < d.count * d.features) throw new BadInputError(`${d.name}: ${d.images.length} pixel bytes for ${d.count}×${d.features}`, { file: d.name });
  if (d.labels.length < d.count) throw new BadInputError(`${d.name}: ${d.labels.length} labels for ${d.count} images`, { file: d.name });
  for (let i = 0; i < d.count; i++) {
    if (d.labels[i] >= classes) throw new BadInputError(`${d.name}: label ${d.labels[i]} at index ${i} is not below the ${classes} classes`, { file: d.name });
  }
}

/** Images [start, start+count) as a view (no copy). */
export function sliceDataset(d: Dataset, start: number, count: number, name = d.name): Dataset {
  if (start < 0 || count < 0 || start + count > d.count) throw new BadInputError(`${d.name}: slice [${start}, ${start + count}) is outside 0..${d.count}`, { file: d.name });
  return {
    name,
    images: d.images.subarray(start * d.features, (start + count) * d.features),
    labels: d.labels.subarray(start, start + count),
    count,
    features: d.features,
  };
}

/** The images at `indices`, copied, in that order. */
export function pickDataset(d: Dataset, indices: ArrayLike<number>, name: string): Dataset {
  const F = d.features;
  const images = new Uint8Array(indices.length * F);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    images.set(d.images.subarray(indices[i] * F, (indices[i] + 1) * F), i * F);
    labels[i] = d.labels[indices[i]];
  }
  return { name, images, labels, count: indices.length, features: F };
}
