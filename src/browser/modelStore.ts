// Models in the browser, one call each: from a URL, to and from IndexedDB by name, and to a downloaded file;
// Model.load (loadModelFrom) takes any of a URL, bytes, an IndexedDB name or (in Node) a file path.
// Every form is the model's safetensors bytes (Model.toSafetensors / fromSafetensors), so a file saved here
// loads in Node and in PyTorch, and the other way round.
import { BadInputError } from '../errors.js';
import { Model, type ModelOptions } from '../engine/model.js';
import type { SaveOptions } from '../engine/checkpoint.js';
import { formatShape } from '../layers/shape.js';

/** Options of Model.load and loadModel: how the loaded model runs, and a signal that cancels a download. */
export type LoadOptions = Pick<ModelOptions, 'variants' | 'evaluationBatch' | 'precision'> & {
  /** Aborting it cancels the download (a URL); the call rejects with the signal's reason. */
  signal?: AbortSignal;
};

/**
 * Where Model.load reads a model (a safetensors file: this engine's, or a PyTorch state dict) from:
 * - a URL (`https:`, `blob:`, `data:`, or in a page one relative to it), as a string or a URL;
 * - the file's bytes, as an ArrayBuffer or a typed array;
 * - `{ indexedDB: name }`, a model saved with saveModelToIndexedDB;
 * - in Node, with `webgpu-mlp/node` imported: a file path (or a `file:` URL).
 */
export type ModelSource = string | URL | ArrayBuffer | ArrayBufferView | {
  /** The name it was saved under with saveModelToIndexedDB. */
  indexedDB: string;
};

/** Reads a model file by path in Node: set by webgpu-mlp/node, absent in a page. */
let readFile: ((path: string | URL) => Uint8Array) | undefined;

/** Lets loadModelFrom read file paths (webgpu-mlp/node calls it as it loads). */
export function readModelFilesWith(read: (path: string | URL) => Uint8Array): void {
  readFile = read;
}

/** A string with a scheme a fetch takes (a Windows drive letter, 'C:', is not a scheme). */
const FETCHED = /^(https?|blob|data):/i;

/** Its bytes as a Uint8Array over the same memory. */
const bytesOf = (b: ArrayBuffer | ArrayBufferView): Uint8Array =>
  ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);

/** A model from any ModelSource, on `device`: a URL, bytes, an IndexedDB name or (Node) a file path. */
export async function loadModelFrom(device: GPUDevice, source: ModelSource, options: LoadOptions = {}): Promise<Model> {
  const { signal, ...modelOptions } = options;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return Model.fromSafetensors(device, bytesOf(source), 'bytes', modelOptions);
  if (typeof source === 'object' && !(source instanceof URL)) {
    if (typeof source?.indexedDB !== 'string') throw new BadInputError(`Model.load: a source is a URL, a path, bytes or { indexedDB: name }, got ${String(source)}`, { value: source });
    return loadModelFromIndexedDB(device, source.indexedDB, modelOptions);
  }
  const text = String(source);
  if (readFile && !FETCHED.test(text)) {
    const path = /^file:/i.test(text) ? new URL(text) : text;
    return Model.fromSafetensors(device, readFile(path), text, modelOptions);
  }
  if (!FETCHED.test(text) && typeof location === 'undefined') {
    throw new BadInputError(`${text}: not a URL (http, https, blob, data); to load a file by path, import Model from 'webgpu-mlp/node'`, { file: text });
  }
  return loadModel(device, source, options);
}

/** The biggest model file fetched: a 784-4096-4096-10 full checkpoint is about 270 MB. */
const MAX_MODEL_BYTES = 1 << 30;

/** A model from a safetensors file at `url` (this engine's, or a PyTorch state dict). */
export async function loadModel(device: GPUDevice, url: string | URL, options: LoadOptions = {}): Promise<Model> {
  const { signal, ...modelOptions } = options;
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new BadInputError(`${url}: could not be fetched (${(e as Error).message})`, { file: String(url) });
  }
  if (!response.ok) throw new BadInputError(`${url}: HTTP ${response.status} ${response.statusText}`, { file: String(url) });
  const length = Number(response.headers.get('Content-Length') ?? 0);
  if (length > MAX_MODEL_BYTES) throw new BadInputError(`${url}: ${length} bytes is over the ${MAX_MODEL_BYTES}-byte limit for a model file`, { file: String(url) });
  return Model.fromSafetensors(device, new Uint8Array(await response.arrayBuffer()), String(url), modelOptions);
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

const DATABASE = 'webgpu-mlp';
const STORE = 'models';

/** A model saved in IndexedDB, without its bytes. */
export interface StoredModelInfo {
  /** The name it is saved under (its key). */
  name: string;
  /** Its input shape and layers: "784 → linear:500,relu,linear:10", "1×28×28 → conv2d:8:k=3,relu,…" */
  architecture: string;
  /** Size of its safetensors file, in bytes. */
  bytes: number;
  /** When it was saved. */
  savedAt: Date;
}

interface StoredModel extends Omit<StoredModelInfo, 'bytes'> {
  data: Uint8Array;
}

function openDatabase(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('IndexedDB is not available here (a browser page or worker has it; Node does not)'));
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'name' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Runs one request in a transaction and resolves when the transaction has committed. */
async function withStore<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDatabase();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = body(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB: the transaction was aborted'));
    });
  } finally {
    db.close();
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.trim() === '') throw new BadInputError(`IndexedDB: a model needs a non-empty name, got '${name}'`, { value: name });
}

/** How the listing names a model: its input shape and its layers ("1×28×28 → conv2d:8:k=3,relu,…"). */
export const storedArchitecture = (model: Model): string => `${formatShape(model.architecture.inputShape)} → ${model.architecture.text}`;

/** Saves the model under `name` in this origin's IndexedDB, replacing a model of that name in one transaction. */
export async function saveModelToIndexedDB(model: Model, name: string, options: SaveOptions = {}): Promise<StoredModelInfo> {
  checkName(name);
  const data = await model.toSafetensors(options);
  const record: StoredModel = { name, architecture: storedArchitecture(model), savedAt: new Date(), data };
  await withStore('readwrite', (store) => store.put(record));
  return { name, architecture: record.architecture, bytes: data.length, savedAt: record.savedAt };
}

/** The model saved under `name`, on `device`. */
export async function loadModelFromIndexedDB(device: GPUDevice, name: string, options: Omit<LoadOptions, 'signal'> = {}): Promise<Model> {
  checkName(name);
  const record = await withStore<StoredModel | undefined>('readonly', (store) => store.get(name));
  if (!record) {
    const saved = (await listModelsInIndexedDB()).map((m) => m.name);
    throw new BadInputError(`IndexedDB: no model named '${name}' (saved: ${saved.length ? saved.join(', ') : 'none'})`, { value: name });
  }
  return Model.fromSafetensors(device, record.data, `IndexedDB '${name}'`, options);
}

/** Every model saved in this origin's IndexedDB, in name order. */
export async function listModelsInIndexedDB(): Promise<StoredModelInfo[]> {
  const records = await withStore<StoredModel[]>('readonly', (store) => store.getAll());
  return records.map(({ name, architecture, savedAt, data }) => ({ name, architecture, savedAt, bytes: data.length }));
}

/** Deletes the model saved under `name`; a name with no model is no error. */
export async function deleteModelFromIndexedDB(name: string): Promise<void> {
  checkName(name);
  await withStore('readwrite', (store) => store.delete(name));
}
