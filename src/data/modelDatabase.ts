// Model files kept in this origin's IndexedDB, by name: one object store of { name, architecture, savedAt, data },
// data the model's safetensors bytes. Below the engine so Model.load can read a name without a circle of imports;
// saving (which needs a Model) is src/browser/modelStore.ts.
import { BadInputError } from '../errors.js';

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

/** What the store holds for a model: its listing and its safetensors bytes. */
export interface StoredModel extends Omit<StoredModelInfo, 'bytes'> {
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

export function checkStoredName(name: string): void {
  if (typeof name !== 'string' || name.trim() === '') throw new BadInputError(`IndexedDB: a model needs a non-empty name, got '${name}'`, { value: name });
}

/** Stores `record` under its name, replacing a model of that name in one transaction. */
export async function putStoredModel(record: StoredModel): Promise<void> {
  checkStoredName(record.name);
  await withStore('readwrite', (store) => store.put(record));
}

/** The safetensors bytes saved under `name`, or a BadInputError naming the models there are. */
export async function storedModelBytes(name: string): Promise<Uint8Array> {
  checkStoredName(name);
  const record = await withStore<StoredModel | undefined>('readonly', (store) => store.get(name));
  if (!record) {
    const saved = (await listStoredModels()).map((m) => m.name);
    throw new BadInputError(`IndexedDB: no model named '${name}' (saved: ${saved.length ? saved.join(', ') : 'none'})`, { value: name });
  }
  return record.data;
}

/** Every model saved in this origin's IndexedDB, in name order. */
export async function listStoredModels(): Promise<StoredModelInfo[]> {
  const records = await withStore<StoredModel[]>('readonly', (store) => store.getAll());
  return records.map(({ name, architecture, savedAt, data }) => ({ name, architecture, savedAt, bytes: data.length }));
}

/** Deletes the model saved under `name`; a name with no model is no error. */
export async function deleteStoredModel(name: string): Promise<void> {
  checkStoredName(name);
  await withStore('readwrite', (store) => store.delete(name));
}
