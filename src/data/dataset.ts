// A labelled set held on the host, row-major: images[count × features], either raw u8 pixels (MNIST; the model
// reads them as x/255) or f32 features (tabular data, read as they are). A model takes one kind (ModelOptions.input).
import { BadInputError } from '../errors.js';
import type { LossKind } from './loss.js';

/** What one input value is: a u8 pixel or an f32 feature. */
export type InputKind = 'u8' | 'f32';
/** A data set's input values: u8 pixels (a Uint8Array) or f32 features (a Float32Array). */
export type Inputs = Uint8Array | Float32Array;
/** Class indices; wider than u8 for more than 256 classes. */
export type Labels = Uint8Array | Uint16Array | Uint32Array | Int32Array;

/**
 * Float targets per row, for the 'mse' (regression) and 'bce' (multi-label) losses: `values` [count × width]
 * row-major, `width` the model's outputs.
 */
export interface Targets {
  /** The targets, [count × width] row-major. */
  values: Float32Array;
  /** Targets per row: the model's outputs. */
  width: number;
}

/**
 * A set on the host: `count` rows of `features` inputs each, and what each row should give: a class index
 * (`labels`, for the 'cross-entropy' loss) or a row of float targets (`targets`, for 'mse' and 'bce').
 */
export interface Dataset<I extends Inputs = Uint8Array> {
  /** Names the set in error messages and logs ('train', 'validation', a file name). */
  name: string;
  /**
   * u8 pixels or f32 features, [count × features] row-major (`images` for either: MNIST was the first). Images are
   * channels-last: each row H×W×C, row-major (datasetFromArrays converts channels-first 'chw' arrays).
   */
  images: I;
  /** Class index of each row, [count], each below the model's classes; empty (length 0) when the set has `targets`. */
  labels: Labels;
  /** Float targets of each row, for the 'mse' and 'bce' losses; absent for class labels. */
  targets?: Targets;
  /** Rows in the set; images and labels may hold more, which are ignored. */
  count: number;
  /** Values per row (784 pixels for MNIST, 4 features for Iris). */
  features: number;
}

/** A data set of f32 features (tabular data), for a model with input 'f32'. */
export type FloatDataset = Dataset<Float32Array>;
/** A data set of either kind: what fit, evaluate and gradients take. */
export type AnyDataset = Dataset<Uint8Array> | Dataset<Float32Array>;

/** The kind of input values an array holds: 'f32' for a Float32Array, else 'u8'. */
export const inputKindOf = (inputs: Inputs): InputKind => (inputs instanceof Float32Array ? 'f32' : 'u8');

/** Bytes that `values` inputs take in a GPU buffer: u8 packed four to a u32 word (the last one padded), or 4 per f32. */
export const inputBufferBytes = (kind: InputKind, values: number): number => (kind === 'f32' ? values * 4 : Math.ceil(values / 4) * 4);

const KIND_WORDS: Record<InputKind, string> = { u8: 'u8 pixels (a Uint8Array)', f32: 'f32 features (a Float32Array)' };

/**
 * Throws a BadInputError naming the data set, index and value for anything the model cannot take: inputs, and
 * class labels below `classes` ('cross-entropy') or float targets of that width ('mse', 'bce').
 */
export function checkDataset(d: AnyDataset, features: number, classes: number, input: InputKind = 'u8', loss: LossKind = 'cross-entropy'): void {
  const where = { file: d.name };
  const kind = checkInputKind(d.name, d.images, input);
  const [rows, unit] = kind === 'u8' ? ['images', 'pixels'] : ['rows', 'features'];
  if (d.features !== features) throw new BadInputError(`${d.name}: ${rows} have ${d.features} ${unit}, the model takes ${features}`, where);
  if (!(Number.isInteger(d.count) && d.count >= 0)) throw new BadInputError(`${d.name}: count ${d.count} is not a non-negative integer`, where);
  if (d.images.length < d.count * d.features) {
    throw new BadInputError(`${d.name}: ${d.images.length} ${kind === 'u8' ? 'pixel bytes' : 'feature values'} for ${d.count}×${d.features}`, where);
  }
  if (loss !== 'cross-entropy') {
    checkFinite(d.name, d.images, d.count, d.features);
    checkTargets(d, classes, loss);
    return;
  }
  if (d.targets) {
    throw new BadInputError(`${d.name}: holds float targets (${d.targets.width} per row); a 'cross-entropy' model takes class labels: build it with loss 'mse' or 'bce'`, where);
  }
  if (d.labels.length < d.count) throw new BadInputError(`${d.name}: ${d.labels.length} labels for ${d.count} ${rows}`, where);
  checkFinite(d.name, d.images, d.count, d.features);
  for (let i = 0; i < d.count; i++) {
    const label = d.labels[i];
    if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
      throw new BadInputError(`${d.name}: label ${label} at index ${i} is not below the ${classes} classes`, { ...where, value: label });
    }
  }
}

/** Float targets for 'mse' or 'bce': present, `outputs` wide, finite, and for 'bce' in [0, 1]. */
function checkTargets(d: AnyDataset, outputs: number, loss: Exclude<LossKind, 'cross-entropy'>): void {
  const where = { file: d.name };
  const t = d.targets;
  if (!t) throw new BadInputError(`${d.name}: holds class labels; loss '${loss}' needs float targets (Dataset.targets, ${outputs} per row)`, where);
  if (t.width !== outputs) throw new BadInputError(`${d.name}: targets are ${t.width} wide, the model has ${outputs} outputs`, { ...where, value: t.width });
  if (!(t.values instanceof Float32Array)) throw new BadInputError(`${d.name}: targets.values must be a Float32Array`, where);
  if (t.values.length < d.count * t.width) throw new BadInputError(`${d.name}: ${t.values.length} target values for ${d.count}×${t.width}`, where);
  for (let i = 0; i < d.count * t.width; i++) {
    const x = t.values[i];
    const bad = !Number.isFinite(x) ? 'not a finite number' : loss === 'bce' && !(x >= 0 && x <= 1) ? "outside [0, 1], which 'bce' needs" : null;
    if (bad) throw new BadInputError(`${d.name}: target ${i % t.width} of row ${Math.floor(i / t.width)} is ${x}, ${bad}`, { ...where, value: x });
  }
}

/** The kind of `inputs`, or a BadInputError when the model takes the other one. */
export function checkInputKind(name: string, inputs: Inputs, input: InputKind): InputKind {
  // Anything else (a plain array, a Uint16Array, null) would fail later in an upload with an untyped TypeError.
  if (!(inputs instanceof Uint8Array || inputs instanceof Float32Array)) {
    const got = inputs === null || inputs === undefined ? String(inputs) : Array.isArray(inputs) ? 'a plain array' : `a ${(inputs as object).constructor?.name ?? typeof inputs}`;
    throw new BadInputError(`${name}: holds ${got}, not ${KIND_WORDS[input]}`, { file: name });
  }
  const kind = inputKindOf(inputs);
  if (kind !== input) throw new BadInputError(`${name}: holds ${KIND_WORDS[kind]}, the model takes ${KIND_WORDS[input]}`, { file: name });
  return kind;
}

/** f32 features of `count` rows must be finite (NaN or ±∞ would spread through a whole batch's gradients). */
export function checkFinite(name: string, inputs: Inputs, count: number, features: number): void {
  if (!(inputs instanceof Float32Array)) return;
  for (let i = 0; i < count * features; i++) {
    const x = inputs[i];
    if (!Number.isFinite(x)) {
      throw new BadInputError(`${name}: feature ${i % features} of row ${Math.floor(i / features)} is ${x}, not a finite number`, { file: name, value: x });
    }
  }
}

/** Rows [start, start+count) as a view (no copy). */
export function sliceDataset<I extends Inputs>(d: Dataset<I>, start: number, count: number, name = d.name): Dataset<I> {
  if (start < 0 || count < 0 || start + count > d.count) throw new BadInputError(`${d.name}: slice [${start}, ${start + count}) is outside 0..${d.count}`, { file: d.name });
  return {
    name,
    images: d.images.subarray(start * d.features, (start + count) * d.features) as I,
    labels: d.labels.length ? d.labels.subarray(start, start + count) : d.labels,
    ...(d.targets && { targets: { values: d.targets.values.subarray(start * d.targets.width, (start + count) * d.targets.width), width: d.targets.width } }),
    count,
    features: d.features,
  };
}

/** The rows at `indices`, copied, in that order (inputs and labels keep their array types). */
export function pickDataset<I extends Inputs>(d: Dataset<I>, indices: ArrayLike<number>, name: string): Dataset<I> {
  const F = d.features;
  const images = new (d.images.constructor as new (length: number) => I)(indices.length * F);
  const labels = new (d.labels.constructor as new (length: number) => Labels)(d.labels.length ? indices.length : 0);
  const W = d.targets?.width ?? 0;
  const values = new Float32Array(indices.length * W);
  for (let i = 0; i < indices.length; i++) {
    images.set(d.images.subarray(indices[i] * F, (indices[i] + 1) * F), i * F);
    if (labels.length) labels[i] = d.labels[indices[i]];
    if (W) values.set(d.targets!.values.subarray(indices[i] * W, (indices[i] + 1) * W), i * W);
  }
  return { name, images, labels, ...(W && { targets: { values, width: W } }), count: indices.length, features: F };
}
