// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
// a JSON header { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { string: string } },
// then the raw little-endian data. Tensors are read into Float32Array (F32, F64, F16, BF16 and I64 accepted)
// and written as F32, or I64 for counts.
import { BadInputError } from '../errors.js';

/** One tensor of a safetensors file, its values as f32. */
export interface Tensor {
  /** Dimensions, outermost first (PyTorch's shape); [] for a scalar. */
  shape: number[];
  /** The values, as f32 (I64 tensors too: counts such as batch norm's num_batches_tracked, exact up to 2²⁴). */
  data: Float32Array;
  /** Stored as F32 (the default) or I64. */
  dtype?: 'F32' | 'I64';
}

/** A decoded safetensors file. */
export interface SafetensorsFile {
  /** The tensors by name ("0.weight"), in the header's order. */
  tensors: Map<string, Tensor>;
  /** The header's `__metadata__`: string keys to string values ({} when absent). */
  metadata: Record<string, string>;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8 };
/** Header size limit, as the reference implementation has: a bigger header is a corrupt or hostile file. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** A safetensors file of these tensors (F32, or I64 where a tensor says so) and metadata, its data 8-byte aligned. */
export function encodeSafetensors(tensors: [string, Tensor][], metadata: Record<string, string> = {}): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new BadInputError(`tensor ${name}: shape [${t.shape.join(', ')}] holds ${count} values, data has ${t.data.length}`);
    const width = t.dtype === 'I64' ? 8 : 4;
    header[name] = { dtype: t.dtype ?? 'F32', shape: t.shape, data_offsets: [offset, offset + width * count] };
    offset += width * count;
  }
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  const view = new DataView(out.buffer);
  for (const [, t] of tensors) {
    if (t.dtype === 'I64') for (let i = 0; i < t.data.length; i++, at += 8) view.setBigInt64(at, BigInt(Math.round(t.data[i])), true);
    else for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i], true);
  }
  return out;
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** What a file that is not safetensors starts like, for the message. */
function notSafetensors(bytes: Uint8Array): string {
  const head = new TextDecoder().decode(bytes.subarray(0, 16)).trimStart();
  if (bytes[0] === 0x89 && head.slice(1, 4) === 'PNG') return 'it is a PNG image';
  if (head.startsWith('{') || head.startsWith('[')) return 'it is JSON, not the 8-byte header length and JSON header of safetensors';
  if (head.startsWith('<')) return 'it is HTML or XML';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'it is gzipped; gunzip it first';
  if (bytes[0] === 0x08 && bytes.length > 2) return 'it may be ONNX or another protobuf';
  return 'its header does not start with a JSON object';
}

/**
 * The first key that a JSON object in the text repeats, at any depth ("w" twice at the top, or "shape" twice in
 * one tensor's entry), or undefined: JSON.parse keeps the last silently.
 */
function repeatedKey(json: string): { key: string; entry?: string } | undefined {
  const objects: (Set<string> | null)[] = []; // one per open bracket: its keys, or null for an array
  let entry: string | undefined; // the top-level key whose value is being read
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const keys = objects.at(-1);
      if (keys) {
        let k = j + 1;
        while (k < json.length && /\s/.test(json[k])) k++;
        if (json[k] === ':') {
          const key = JSON.parse(json.slice(i, j + 1)) as string;
          if (keys.has(key)) return objects.length === 1 ? { key } : { key, entry };
          keys.add(key);
          if (objects.length === 1) entry = key;
        }
      }
      i = j;
    } else if (c === '{') objects.push(new Set());
    else if (c === '[') objects.push(null);
    else if (c === '}' || c === ']') objects.pop();
  }
  return undefined;
}

/**
 * Reads a safetensors file (F32, F64, F16, BF16 and I64 tensors, all into f32), checking its header, offsets
 * and sizes before decoding any tensor; `file` names it in errors (BadInputError).
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  if (bytes.length < 8) throw new BadInputError(`${file}: ${bytes.length} bytes is too short for a safetensors file`, { file });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  // The header is JSON, so its first byte is '{': anything else is not this format, whatever its length says.
  if (bytes[8] !== 0x7b) throw new BadInputError(`${file}: not a safetensors file (${notSafetensors(bytes)})`, { file });
  if (headerLength > MAX_HEADER_BYTES) throw new BadInputError(`${file}: header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`, { file });
  if (8 + headerLength > bytes.length) throw new BadInputError(`${file}: header length ${headerLength} is larger than the file (${bytes.length} bytes)`, { file });
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new BadInputError(`${file}: header is not valid JSON (${(e as Error).message})`, { file });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new BadInputError(`${file}: header is not a JSON object`, { file });
  const repeated = repeatedKey(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  if (repeated?.entry !== undefined) {
    throw new BadInputError(`${file}: header entry ${JSON.stringify(repeated.entry)} names ${JSON.stringify(repeated.key)} twice (the reference parser refuses that; here the last one would win)`, { file, tensor: repeated.entry });
  }
  if (repeated !== undefined) throw new BadInputError(`${file}: header names ${JSON.stringify(repeated.key)} twice (the reference parser refuses that; here the last one would win)`, { file, tensor: repeated.key });
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, Tensor>();
  // Every entry is checked, and no two may share bytes, before any tensor is decoded: a crafted header cannot
  // make the reader allocate more than the file holds.
  const pending: { name: string; dtype: string; shape: number[]; begin: number; end: number; count: number; width: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new BadInputError(`${file}: header entry ${name} is not an object`, { file });
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new BadInputError(`${file}: metadata '${k}' is not a string`, { file });
        metadata[k] = v;
      }
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw new BadInputError(`${file}: tensor ${name} has dtype ${String(dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`, { file });
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new BadInputError(`${file}: tensor ${name} has an invalid shape`, { file });
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new BadInputError(`${file}: tensor ${name} has invalid data_offsets`, { file });
    }
    const [begin, end] = offsets as number[];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const width = DTYPE_BYTES[dtype];
    if (end < begin || end - begin !== count * width) {
      throw new BadInputError(`${file}: tensor ${name}: data_offsets [${begin}, ${end}] do not hold ${count} ${dtype} values of shape [${shape.join(', ')}]`, { file });
    }
    if (end > dataLength) throw new BadInputError(`${file}: tensor ${name} ends at byte ${end} of the data, but the file holds only ${dataLength} (truncated?)`, { file });
    pending.push({ name, dtype, shape: shape as number[], begin, end, count, width });
  }
  // The format gives each tensor its own bytes: two views of the same bytes are a corrupt or crafted file.
  const ranges = pending.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    const [a, b] = [ranges[i - 1], ranges[i]];
    if (b.begin < a.end) throw new BadInputError(`${file}: tensors ${a.name} and ${b.name} overlap in the data (bytes [${b.begin}, ${Math.min(a.end, b.end)}))`, { file, tensor: b.name });
  }
  for (const { name, dtype, shape, begin, count, width } of pending) {
    const data = new Float32Array(count);
    const at = dataStart + begin;
    const bf16 = new Uint32Array(1); // BF16 is the top half of an f32: widen through one scratch word
    const bf16AsF32 = new Float32Array(bf16.buffer);
    for (let i = 0; i < count; i++) {
      const p = at + i * width;
      data[i] =
        dtype === 'F32' ? view.getFloat32(p, true)
        : dtype === 'F64' ? view.getFloat64(p, true)
        : dtype === 'F16' ? f16ToF32(view.getUint16(p, true))
        : dtype === 'I64' ? Number(view.getBigInt64(p, true))
        : ((bf16[0] = view.getUint16(p, true) << 16), bf16AsF32[0]);
    }
    tensors.set(name, dtype === 'I64' ? { shape, data, dtype } : { shape, data });
  }
  return { tensors, metadata };
}
