// Node: models to and from .safetensors files (atomic writes; a bad file names itself and changes nothing).
import { decodeSafetensors, type SafetensorsFile } from '../data/safetensors.js';
import { modelOptionsFromCheckpoint, saveCheckpoint, type SaveOptions } from '../engine/checkpoint.js';
import { Model, type ModelOptions } from '../engine/model.js';
import type { VariantChoices } from '../gpu/variants.js';
import { readFileChecked, writeFileAtomic } from './files.js';

export async function saveModelFile(model: Model, path: string, options: SaveOptions = {}): Promise<void> {
  writeFileAtomic(path, await saveCheckpoint(model, options));
}

export interface ModelFile {
  path: string;
  file: SafetensorsFile;
  /** The sizes and pixel normalization a model needs to take this file. */
  options: ModelOptions;
}

/** Reads and decodes a model file once, checking its shapes, without touching a GPU. */
export function readModelFile(path: string): ModelFile {
  const file = decodeSafetensors(readFileChecked(path), path);
  return { path, file, options: modelOptionsFromCheckpoint(file, path) };
}

/** A new Model shaped by the file (sizes, pixel normalization), with its weights (and state, if full). */
export function openModelFile(device: GPUDevice, source: string | ModelFile, variants?: VariantChoices): { model: Model; metadata: Record<string, string> } {
  const { path, file } = typeof source === 'string' ? readModelFile(source) : source;
  return { model: Model.fromSafetensors(device, file, path, { variants }), metadata: file.metadata };
}
