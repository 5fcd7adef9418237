// Node: models to and from .safetensors files (atomic writes; a bad file names itself and changes nothing).
import { decodeSafetensors, type SafetensorsFile } from '../data/safetensors.js';
import { decodeModelState, modelOptionsFromCheckpoint, saveCheckpoint, type SaveOptions } from '../engine/checkpoint.js';
import { checkModelState, type ModelState } from '../engine/modelState.js';
import { Model, type ModelOptions } from '../engine/model.js';
import type { VariantChoices } from '../gpu/variants.js';
import { fileURLToPath } from 'node:url';
import { BadInputError } from '../errors.js';
import { readFileChecked, writeFileAtomic } from './files.js';

/** Writes the model as a safetensors file at `path`, atomically (`{ full: true }` for a checkpoint that resumes). */
export async function saveModelFile(model: Model, path: string, options: SaveOptions = {}): Promise<void> {
  writeFileAtomic(path, await saveCheckpoint(model, options));
}

/** A model file read and decoded (readModelFile), ready to build a model from. */
export interface ModelFile {
  /** Where it was read from; names it in error messages. */
  path: string;
  /** Its tensors and metadata. */
  file: SafetensorsFile;
  /** The sizes and pixel normalization a model needs to take this file. */
  options: ModelOptions;
  /** The model state it holds, checked. */
  state: ModelState;
}

/**
 * Reads and decodes a model file once, without touching a GPU, and checks it whole as a model taking it would
 * (checkModelState): evaluate, predict, resume and export refuse a bad file before any work.
 */
export function readModelFile(path: string): ModelFile {
  const file = decodeSafetensors(readFileChecked(path), path);
  const state = decodeModelState(file, path);
  checkModelState(state, path);
  return { path, file, options: modelOptionsFromCheckpoint(file, path), state };
}

/** A new Model shaped by the file (sizes, pixel normalization), with its weights (and state, if full). */
export function openModelFile(device: GPUDevice, source: string | ModelFile, variants?: VariantChoices): {
  /** The new model, holding the file's weights. */
  model: Model;
  /** The file's metadata (its layers, recipe, and any keys the saver added). */
  metadata: Record<string, string>;
} {
  const { path, file, state } = typeof source === 'string' ? readModelFile(source) : source;
  return { model: Model.fromState(device, state, path, { variants }), metadata: file.metadata };
}

/** A model file's bytes by path or file: URL (Model.load in Node); a file that cannot be read is a BadInputError naming it. */
export function readModelBytes(source: string | URL): Uint8Array {
  const path = source instanceof URL ? fileURLToPath(source) : source;
  try {
    return readFileChecked(path);
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    throw new BadInputError(`${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path });
  }
}
