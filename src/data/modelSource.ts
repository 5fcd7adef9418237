// Where a model file's bytes come from, for Model.load: a URL, the bytes themselves, an IndexedDB name or (in
// Node, once webgpu-mlp/node is imported) a file path. Every form is safetensors bytes (this engine's file or a
// PyTorch state dict), which Model.fromSafetensors reads.
import { BadInputError } from '../errors.js';
import { storedModelBytes } from './modelDatabase.js';

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

/** A model file's bytes and the name errors give it (the URL, the path, `IndexedDB 'name'`, 'bytes'). */
export interface ModelBytes {
  bytes: Uint8Array;
  name: string;
}

/** Reads a model file by path in Node: set by webgpu-mlp/node, absent in a page. */
let readFile: ((path: string | URL) => Uint8Array) | undefined;

/** Lets Model.load read file paths (webgpu-mlp/node calls it as it loads). */
export function readModelFilesWith(read: (path: string | URL) => Uint8Array): void {
  readFile = read;
}

/** A string with a scheme a fetch takes (a Windows drive letter, 'C:', is not a scheme). */
const FETCHED = /^(https?|blob|data):/i;

/** Its bytes as a Uint8Array over the same memory. */
const bytesOf = (b: ArrayBuffer | ArrayBufferView): Uint8Array =>
  ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);

/** The bytes of a model file from any ModelSource; `signal` cancels a download. */
export async function readModelSource(source: ModelSource, signal?: AbortSignal): Promise<ModelBytes> {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return { bytes: bytesOf(source), name: 'bytes' };
  if (typeof source === 'object' && !(source instanceof URL)) {
    if (typeof source?.indexedDB !== 'string') throw new BadInputError(`Model.load: a source is a URL, a path, bytes or { indexedDB: name }, got ${String(source)}`, { value: source });
    return { bytes: await storedModelBytes(source.indexedDB), name: `IndexedDB '${source.indexedDB}'` };
  }
  const text = String(source);
  if (readFile && !FETCHED.test(text)) return { bytes: readFile(/^file:/i.test(text) ? new URL(text) : text), name: text };
  if (!FETCHED.test(text) && typeof location === 'undefined') {
    throw new BadInputError(`${text}: not a URL (http, https, blob, data); to load a file by path, import Model from 'webgpu-mlp/node'`, { file: text });
  }
  return { bytes: await fetchModelBytes(source, signal), name: text };
}

/** The biggest model file fetched: a 784-4096-4096-10 full checkpoint is about 270 MB. */
const MAX_MODEL_BYTES = 1 << 30;

/** The bytes at `url`, or a BadInputError naming it (no answer, an HTTP error, over the size limit). */
export async function fetchModelBytes(url: string | URL, signal?: AbortSignal): Promise<Uint8Array> {
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
  return new Uint8Array(await response.arrayBuffer());
}
