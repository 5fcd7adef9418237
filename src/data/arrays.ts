// Data sets from the caller's own typed arrays: inputs as u8 pixels or f32 features with an explicit row shape,
// images in either layout (converted to the engine's channels-last one), and class labels or float targets.
// Every mismatch is a BadInputError naming the set and what does not fit, before anything reaches a GPU.
import { BadInputError } from '../errors.js';
import { checkFinite, type Dataset, type Inputs, type Labels, type Targets } from './dataset.js';

/**
 * How an image's values lie in memory. `'hwc'`: channels-last, [height][width][channels] row-major (the
 * engine's own layout: a pixel's channels sit together, as in ImageData without alpha). `'chw'`: channels-first,
 * [channels][height][width] (PyTorch's and NumPy-from-torchvision's), converted to `'hwc'` by copying.
 */
export type ImageLayout = 'hwc' | 'chw';

/** Class indices as given: an integer typed array or plain numbers. */
export type LabelsInput = Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | readonly number[];

/** What datasetFromArrays builds a set from. */
export interface ArrayDatasetOptions<I extends Inputs> {
  /** Names the set in error messages and logs. Default 'arrays'. */
  name?: string;
  /**
   * The rows' values, one row after another: u8 pixels (a Uint8Array, read by the model as x/255) or f32
   * features (a Float32Array, read as they are; each must be finite).
   */
  inputs: I;
  /**
   * One row's shape: a width (features), or an image [channels, height, width]. An image also needs `layout`;
   * the engine holds images channels-last (H×W×C per row, row-major).
   */
  shape: number | readonly [number, number, number];
  /** How an image row lies in `inputs` (ImageLayout); needed with an image shape, not with a width. */
  layout?: ImageLayout;
  /** Rows in the set; default inputs.length / (values per row). When given, inputs must hold exactly that many rows. */
  count?: number;
  /** Class index per row, each an integer in 0..classes−1 (for the 'cross-entropy' loss). Give labels or targets. */
  labels?: LabelsInput;
  /** Classes the labels index into (the model's output width); needed with `labels`. */
  classes?: number;
  /**
   * Float targets per row (for the 'mse' and 'bce' losses): rows of numbers, or a Float32Array [count × width]
   * row-major with `targetWidth`. Each must be finite.
   */
  targets?: Float32Array | readonly (readonly number[])[];
  /** Targets per row; needed when `targets` is a Float32Array. */
  targetWidth?: number;
}

const fail = (name: string, message: string, value?: unknown): never => {
  throw new BadInputError(`${name}: ${message}`, { file: name, ...(value !== undefined && { value }) });
};

/** The values in one row of `shape`, after checking it is a positive width or [channels, height, width]. */
function valuesPerRow(name: string, shape: ArrayDatasetOptions<Inputs>['shape']): number {
  const dims = typeof shape === 'number' ? [shape] : Array.isArray(shape) ? shape : [];
  if (!((dims.length === 1 || dims.length === 3) && dims.every((d) => Number.isInteger(d) && d >= 1))) {
    fail(name, `shape must be a positive integer width or [channels, height, width], got ${JSON.stringify(shape)}`, shape);
  }
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * Copies `count` images from channels-first [count][C][H][W] to the engine's channels-last [count][H][W][C].
 * `shape` is [channels, height, width].
 */
export function chwToHwc<I extends Inputs>(values: I, shape: readonly [number, number, number], count: number): I {
  const [C, H, W] = shape;
  const HW = H * W;
  const out = new (values.constructor as new (length: number) => I)(count * C * HW);
  for (let n = 0; n < count; n++) {
    const base = n * C * HW;
    for (let c = 0; c < C; c++) for (let p = 0; p < HW; p++) out[base + p * C + c] = values[base + c * HW + p];
  }
  return out;
}

/** The labels as a Labels array (u8, u16 or u32 by `classes`), each checked to be an integer class index. */
function checkedLabels(name: string, labels: LabelsInput, classes: number | undefined, count: number): Labels {
  const isInteger = labels instanceof Uint8Array || labels instanceof Uint16Array || labels instanceof Uint32Array ||
    labels instanceof Int8Array || labels instanceof Int16Array || labels instanceof Int32Array || Array.isArray(labels);
  if (!isInteger) {
    const got = (labels as object)?.constructor?.name ?? typeof labels;
    fail(name, `labels are a ${got}; give class indices as an integer typed array or number[] (float targets go in targets)`);
  }
  if (!(Number.isInteger(classes) && classes! >= 2)) fail(name, `labels need classes, the class count (an integer ≥ 2), got ${classes}`, classes);
  if (labels.length !== count) fail(name, `${labels.length} labels for ${count} rows`, labels.length);
  const out = classes! <= 256 ? new Uint8Array(count) : classes! <= 65536 ? new Uint16Array(count) : new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels[i];
    if (!(Number.isInteger(label) && label >= 0 && label < classes!)) {
      fail(name, `label ${label} at row ${i} is not a class index in 0..${classes! - 1}`, label);
    }
    out[i] = label;
  }
  return out;
}

/** The targets as [count × width] row-major floats, each finite. */
function checkedTargets(name: string, targets: NonNullable<ArrayDatasetOptions<Inputs>['targets']>, width: number | undefined, count: number): Targets {
  let values: Float32Array;
  if (targets instanceof Float32Array) {
    if (!(Number.isInteger(width) && width! >= 1)) fail(name, `targets as a Float32Array need targetWidth, a positive integer, got ${width}`, width);
    if (targets.length !== count * width!) fail(name, `${targets.length} target values for ${count} rows × ${width} targets`, targets.length);
    values = targets;
  } else if (Array.isArray(targets)) {
    if (targets.length !== count) fail(name, `${targets.length} target rows for ${count} rows`, targets.length);
    const rowWidth = count ? targets[0]?.length : width;
    if (!(Number.isInteger(rowWidth) && rowWidth >= 1)) fail(name, 'targets rows must be arrays of at least one number');
    if (width !== undefined && width !== rowWidth) fail(name, `targetWidth is ${width} but the target rows have ${rowWidth} values`, width);
    width = rowWidth;
    values = new Float32Array(count * width!);
    targets.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== width) fail(name, `target row ${i} has ${Array.isArray(row) ? row.length : 'no'} values, row 0 has ${width}`);
      values.set(row, i * width!);
    });
  } else {
    fail(name, `targets are a ${(targets as object)?.constructor?.name ?? typeof targets}; give a Float32Array with targetWidth or rows of numbers`);
  }
  for (let i = 0; i < values!.length; i++) {
    if (!Number.isFinite(values![i])) fail(name, `target ${i % width!} of row ${Math.floor(i / width!)} is ${values![i]}, not a finite number`, values![i]);
  }
  return { values: values!, width: width! };
}

/**
 * A data set from typed arrays with an explicit shape, checked whole before anything reaches a GPU.
 *
 * Inputs are u8 pixels (a Uint8Array; the model reads x/255, with its pixelMean and pixelStd) or f32 features
 * (a Float32Array, read as they are). An image row is [channels, height, width]: the engine holds images
 * channels-last (H×W×C per row, row-major), so `layout: 'hwc'` uses `inputs` as they are (no copy) and
 * `layout: 'chw'` copies them into that order. Each row has a class index (`labels` with `classes`) or a row
 * of float targets (`targets`), not both.
 *
 * Throws BadInputError naming the set and the mismatch: a length that is not count × shape, an unknown layout,
 * a label out of range or not an integer, ragged or wrongly sized targets, a non-finite float.
 *
 * @example
 * ```ts
 * // Two 2×2 RGB images, channels-first as PyTorch keeps them, with classes 0 and 1 of 2.
 * const set = datasetFromArrays({
 *   inputs: new Uint8Array(2 * 3 * 2 * 2), shape: [3, 2, 2], layout: 'chw', labels: [0, 1], classes: 2,
 * });
 * ```
 */
export function datasetFromArrays<I extends Inputs>(options: ArrayDatasetOptions<I>): Dataset<I> {
  const name = options.name ?? 'arrays';
  const { inputs, shape, layout } = options;
  if (!(inputs instanceof Uint8Array || inputs instanceof Float32Array)) {
    const got = inputs === null || inputs === undefined ? String(inputs) : Array.isArray(inputs) ? 'a plain array' : `a ${(inputs as object).constructor?.name ?? typeof inputs}`;
    fail(name, `inputs are ${got}; give u8 pixels (a Uint8Array) or f32 features (a Float32Array)`);
  }
  const features = valuesPerRow(name, shape);
  const image = typeof shape !== 'number';
  if (image && layout !== 'hwc' && layout !== 'chw') {
    fail(name, `an image shape [${(shape as readonly number[]).join(', ')}] needs layout 'hwc' (channels-last) or 'chw' (channels-first), got ${JSON.stringify(layout)}`, layout);
  }
  if (!image && layout !== undefined) fail(name, `layout '${layout}' is for image shapes [channels, height, width]; shape ${shape} is a width`, layout);
  const count = options.count ?? inputs.length / features;
  if (options.count !== undefined && !(Number.isInteger(count) && count >= 0)) fail(name, `count must be a non-negative integer, got ${count}`, count);
  if (!Number.isInteger(count) || inputs.length !== count * features) {
    const per = image ? `${(shape as readonly number[]).join('×')} = ${features}` : `${features}`;
    fail(name, `inputs hold ${inputs.length} values, not a whole number of rows of ${per}` +
      (options.count !== undefined ? ` (count ${count} needs ${count * features})` : ''), inputs.length);
  }
  checkFinite(name, inputs, count, features);
  const hasLabels = options.labels !== undefined;
  const hasTargets = options.targets !== undefined;
  if (hasLabels === hasTargets) fail(name, hasLabels ? 'give labels or targets, not both' : 'give labels (with classes) or targets');
  if (!hasLabels && options.classes !== undefined) fail(name, 'classes goes with labels; targets set the width by themselves');
  const labels = hasLabels ? checkedLabels(name, options.labels!, options.classes, count) : new Uint8Array(0);
  const targets = hasTargets ? checkedTargets(name, options.targets!, options.targetWidth, count) : undefined;
  const rows = layout === 'chw' ? chwToHwc(inputs, shape as [number, number, number], count) : inputs;
  return { name, images: rows, labels, ...(targets && { targets }), count, features };
}
