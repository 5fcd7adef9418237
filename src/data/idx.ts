// IDX files (LeCun's MNIST format): big-endian magic 0x00000800 | type << 8 | dims, then one u32 per dimension,
// then the data row-major. This reader takes u8 data (type 0x08) with any number of dimensions.
import { BadInputError } from '../errors.js';

/** A u8 tensor read from an IDX file. */
export interface IdxTensor {
  /** Its dimensions, outermost first ([60000, 28, 28] for MNIST's training images). */
  dims: number[];
  /** Its values, row-major: a view into the file's bytes, no copy. */
  data: Uint8Array;
}

const U8_TYPE = 0x08;

/** Reads a u8 IDX file, checking its header and size; `name` names it in errors (BadInputError). */
export function parseIdx(bytes: Uint8Array, name: string): IdxTensor {
  if (bytes.length < 4) throw new BadInputError(`${name}: ${bytes.length} bytes is too short for an IDX header`, { file: name });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = (magic >>> 8) & 0xff;
  const rank = magic & 0xff;
  if (magic >>> 16 !== 0 || rank < 1) {
    throw new BadInputError(`${name}: not an IDX file (magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x000008NN)`, { file: name });
  }
  if (type !== U8_TYPE) throw new BadInputError(`${name}: IDX data type 0x${type.toString(16)} is not u8 (0x08)`, { file: name });
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new BadInputError(`${name}: truncated header (${bytes.length} bytes, ${rank} dimensions need ${headerBytes})`, { file: name });
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual < expected) throw new BadInputError(`${name}: truncated: dimensions [${dims.join(', ')}] need ${expected} data bytes, file has ${actual}`, { file: name });
  if (actual > expected) throw new BadInputError(`${name}: ${actual - expected} bytes of trailing data after dimensions [${dims.join(', ')}]`, { file: name });
  return { dims, data: bytes.subarray(headerBytes, headerBytes + expected) };
}

/** Images [n × rows × cols] and labels [n] from two IDX files, checked against each other. */
export function imagesAndLabels(
  images: IdxTensor, labels: IdxTensor, imagesName: string, labelsName: string, classes = 10,
): {
  /** Pixels, [count × rows·cols] row-major. */
  images: Uint8Array;
  /** Class index per image, [count], each below `classes`. */
  labels: Uint8Array;
  /** Images in the files. */
  count: number;
  /** Pixels per image: rows × cols. */
  features: number;
} {
  if (images.dims.length !== 3) throw new BadInputError(`${imagesName}: expected 3 dimensions [count, rows, cols], got [${images.dims.join(', ')}]`, { file: imagesName });
  if (labels.dims.length !== 1) throw new BadInputError(`${labelsName}: expected 1 dimension [count], got [${labels.dims.join(', ')}]`, { file: labelsName });
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) throw new BadInputError(`${labelsName} has ${labels.dims[0]} labels but ${imagesName} has ${count} images`);
  for (let i = 0; i < count; i++) {
    if (labels.data[i] >= classes) throw new BadInputError(`${labelsName}: label ${labels.data[i]} at index ${i} is not a class 0..${classes - 1}`, { file: labelsName });
  }
  return { images: images.data, labels: labels.data, count, features: rows * cols };
}
