// Models in the browser, one call each: from a URL, to and from IndexedDB by name, and to a downloaded file
// (Model.load takes any of a URL, bytes, an IndexedDB name or, in Node, a file path: src/data/modelSource.ts).
// Every form is the model's safetensors bytes (Model.toSafetensors / fromSafetensors), so a file saved here
// loads in Node and in PyTorch, and the other way round.
import { Model, type LoadOptions } from '../engine/model.js';
import { fetchModelBytes } from '../data/modelSource.js';
import {
  checkStoredName, deleteStoredModel, listStoredModels, putStoredModel, storedModelBytes, type StoredModel, type StoredModelInfo,
} from '../data/modelDatabase.js';
import type { SaveOptions } from '../engine/checkpoint.js';
import { formatShape } from '../layers/shape.js';

/** A model from a safetensors file at `url` (this engine's, or a PyTorch state dict): Model.load for a URL. */
export async function loadModel(device: GPUDevice, url: string | URL, options: LoadOptions = {}): Promise<Model> {
  const { signal, ...modelOptions } = options;
  return Model.fromSafetensors(device, await fetchModelBytes(url, signal), String(url), modelOptions);
}

/** Offers the model to the user as a file download (`{ full: true }` for a checkpoint that resumes). */
export async function downloadModel(model: Model, fileName = 'model.safetensors', options: SaveOptions = {}): Promise<void> {
  const bytes = await model.toSafetensors(options);
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const link = Object.assign(document.createElement('a'), { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own reference to the blob by now.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** How the listing names a model: its input shape and its layers ("1×28×28 → conv2d:8:k=3,relu,…"). */
export const storedArchitecture = (model: Model): string => `${formatShape(model.architecture.inputShape)} → ${model.architecture.text}`;

/** Saves the model under `name` in this origin's IndexedDB, replacing a model of that name in one transaction. */
export async function saveModelToIndexedDB(model: Model, name: string, options: SaveOptions = {}): Promise<StoredModelInfo> {
  checkStoredName(name);
  const data = await model.toSafetensors(options);
  const record: StoredModel = { name, architecture: storedArchitecture(model), savedAt: new Date(), data };
  await putStoredModel(record);
  return { name, architecture: record.architecture, bytes: data.length, savedAt: record.savedAt };
}

/** The model saved under `name`, on `device`. */
export async function loadModelFromIndexedDB(device: GPUDevice, name: string, options: Omit<LoadOptions, 'signal'> = {}): Promise<Model> {
  return Model.fromSafetensors(device, await storedModelBytes(name), `IndexedDB '${name}'`, options);
}

/** Every model saved in this origin's IndexedDB, in name order. */
export function listModelsInIndexedDB(): Promise<StoredModelInfo[]> {
  return listStoredModels();
}

/** Deletes the model saved under `name`; a name with no model is no error. */
export function deleteModelFromIndexedDB(name: string): Promise<void> {
  return deleteStoredModel(name);
}

export type { StoredModelInfo };
