// Node: models to and from .safetensors files (atomic writes; a bad file names itself and changes nothing).
import { decodeSafetensors } from '../data/safetensors.js';
import { loadCheckpoint, modelOptionsFromCheckpoint, saveCheckpoint, type SaveOptions } from '../engine/checkpoint.js';
import { Model } from '../engine/model.js';
import type { VariantChoices } from '../engine/variants.js';
import { readFileChecked, writeFileAtomic } from './files.js';

export async function saveModelFile(model: Model, path: string, options: SaveOptions = {}): Promise<void> {
  writeFileAtomic(path, await saveCheckpoint(model, options));
}

/** A new Model shaped by the file (sizes, pixel normalization), with its weights (and state, if full). */
export function openModelFile(device: GPUDevice, path: string, variants?: VariantChoices): { model: Model; metadata: Record<string, string> } {
  const bytes = readFileChecked(path);
  const options = modelOptionsFromCheckpoint(decodeSafetensors(bytes, path), path);
  const model = new Model(device, { ...options, variants });
  try {
    const { metadata } = loadCheckpoint(model, bytes, path);
    return { model, metadata };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
