// Node: data sets from files: CSV (features with a label column or target columns) and IDX (u8 images with
// labels, as MNIST ships), read with a size limit and errors that name the file.
import { basename } from 'node:path';
import { BadInputError } from '../errors.js';
import { csvDataset, type CsvDataset, type CsvOptions } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
import { imagesAndLabels, parseIdx } from '../data/idx.js';
import { readFileChecked } from './files.js';
import { readIdxBytes } from './mnistFiles.js';

/** The largest CSV file read: far above a table that trains here, and below what one string can hold. */
export const MAX_CSV_BYTES = 256 << 20;

/**
 * An f32 data set from a CSV file with a header row: numeric feature columns, and a label column (class indices,
 * or class names mapped to indices and reported in `classNames`) or target columns (float targets). Columns go by
 * header name or index. Throws BadInputError naming the file, line and column of a field that is not a number,
 * a ragged row, an empty file or a missing column; files over MAX_CSV_BYTES are refused unread.
 *
 * @example
 * ```ts
 * const flowers = readCsvDataset('iris.csv', { labelColumn: 'species' });
 * console.log(flowers.count, flowers.featureNames, flowers.classNames);
 * ```
 */
export function readCsvDataset(path: string, options: CsvOptions): CsvDataset {
  const bytes = readFileChecked(path, MAX_CSV_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BadInputError(`${path}: not UTF-8 text`, { file: path });
  }
  return csvDataset(text, path, options);
}

/** A u8 image set read from IDX files, with its image shape and class count. */
export interface IdxDataset extends Dataset<Uint8Array> {
  /** One image's shape, [1, rows, cols]: gray, channels-last (the same bytes either way with one channel). */
  shape: [number, number, number];
  /** The class count: `classes` as asked, or the largest label + 1 (at least 2). */
  classes: number;
}

/**
 * A u8 image set from two IDX files (MNIST's format; plain or .gz): images [count × rows × cols] and labels
 * [count]. Labels must be below `classes` (default: the largest label + 1). Throws BadInputError naming the
 * file for a bad header, truncated data, a count mismatch or a label out of range.
 */
export function readIdxDataset(imagesPath: string, labelsPath: string, options: { classes?: number; name?: string } = {}): IdxDataset {
  const images = parseIdx(readIdxBytes(imagesPath), imagesPath);
  const labels = parseIdx(readIdxBytes(labelsPath), labelsPath);
  let classes = options.classes;
  if (classes !== undefined && !(Number.isInteger(classes) && classes >= 2)) throw new BadInputError(`classes must be an integer ≥ 2, got ${classes}`, { value: classes });
  classes ??= Math.max(2, labels.data.reduce((a, b) => Math.max(a, b), 0) + 1);
  const set = imagesAndLabels(images, labels, imagesPath, labelsPath, classes);
  return { name: options.name ?? basename(imagesPath), ...set, shape: [1, images.dims[1], images.dims[2]], classes };
}
