// CSV text (a header row of column names, then one row per example) as an f32 data set: numeric feature
// columns, and a label column (class indices, or class names mapped to indices) or float target columns.
// Fields may be quoted ("a, b", "" for a quote); lines end in LF or CRLF; blank lines are skipped. Errors name
// the file, the line and the column.
import { BadInputError } from '../errors.js';
import type { FloatDataset } from './dataset.js';

/** A column by its header name, or by its index from 0. */
export type CsvColumn = string | number;

/** Which columns of a CSV file are what. */
export interface CsvOptions {
  /** The column of class labels: integers 0, 1, … or names (mapped to indices in sorted order). Give this or targetColumns. */
  labelColumn?: CsvColumn;
  /** The columns of float targets, one per model output (for the 'mse' and 'bce' losses). */
  targetColumns?: readonly CsvColumn[];
  /** The feature columns, in this order. Default: every column that is not the label or a target. */
  features?: readonly CsvColumn[];
  /** The field separator. Default ','. */
  delimiter?: string;
}

/** An f32 data set read from CSV, with what its columns were. */
export interface CsvDataset extends FloatDataset {
  /** The feature columns' names, in row order. */
  featureNames: string[];
  /** With a label column: the class count (the largest index + 1, or the number of names). */
  classes?: number;
  /** With a label column of names: the name of each class index, sorted. */
  classNames?: string[];
  /** With target columns: their names, in target order. */
  targetNames?: string[];
  /** With a label column: its name. */
  labelName?: string;
}

/** One record of a CSV file: its fields as written (unquoted), and the line it starts on. */
export interface CsvRecord {
  /** The line the record starts on, from 1. */
  line: number;
  /** Its fields, quotes removed. */
  fields: string[];
}

/** Splits CSV text into records (RFC 4180 quoting; LF or CRLF; blank lines skipped). */
export function parseCsvRecords(text: string, name: string, delimiter = ','): CsvRecord[] {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new BadInputError(`${name}: the delimiter must be one character other than a quote or a line end, got ${JSON.stringify(delimiter)}`, { file: name, value: delimiter });
  }
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let blank = true;
  const endRecord = () => {
    if (!blank) records.push({ line: start, fields: [...fields, field] });
    fields = [];
    field = '';
    blank = true;
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else { if (ch === '\n') line++; field += ch; }
      continue;
    }
    if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      if (ch === '\r') i++;
      endRecord();
      start = ++line;
    } else if (blank && ch.trim() === '' && ch !== delimiter) {
      continue; // leading spaces of a line that may be blank
    } else {
      blank = false;
      if (ch === '"' && field.trim() === '') { field = ''; quoted = true; }
      else if (ch === delimiter) { fields.push(field); field = ''; }
      else field += ch;
    }
  }
  if (quoted) throw new BadInputError(`${name}: line ${start}: a quoted field is not closed before the end of the file`, { file: name });
  endRecord();
  return records;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A field as a finite number, or undefined (empty, a word, NaN, Infinity, hexadecimal). */
const numberOf = (field: string): number | undefined => {
  const s = field.trim();
  if (!DECIMAL.test(s)) return undefined;
  const x = Number(s);
  return Number.isFinite(x) ? x : undefined;
};

/** The index of a column given by name (first) or index, or a BadInputError naming the file's columns. */
function columnIndex(column: CsvColumn, header: string[], name: string, role: string): number {
  const byName = header.indexOf(String(column).trim());
  if (byName >= 0) return byName;
  const i = typeof column === 'number' ? column : /^\d+$/.test(column.trim()) ? Number(column) : -1;
  if (Number.isInteger(i) && i >= 0 && i < header.length) return i;
  throw new BadInputError(`${name}: no ${role} column ${JSON.stringify(column)}; the columns are ${header.map((h) => JSON.stringify(h)).join(', ')} (or an index 0..${header.length - 1})`, { file: name, value: column });
}

/**
 * An f32 data set from CSV text: the first record names the columns; features are f32, labels class indices
 * (integers as they are, or names mapped to indices in sorted order, reported in classNames), targets f32.
 * Throws BadInputError naming the file, line and column of a field that is not a number, a row with the
 * wrong number of fields, an empty file, or a missing column.
 */
export function csvDataset(text: string, name: string, options: CsvOptions): CsvDataset {
  const records = parseCsvRecords(text, name, options.delimiter);
  if (records.length === 0) throw new BadInputError(`${name}: empty: no header row of column names`, { file: name });
  const header = records[0].fields.map((h) => h.trim());
  const rows = records.slice(1);
  if (rows.length === 0) throw new BadInputError(`${name}: a header row and no data rows`, { file: name });
  for (const r of rows) {
    if (r.fields.length !== header.length) {
      throw new BadInputError(`${name}: line ${r.line} has ${r.fields.length} fields, the header has ${header.length}`, { file: name, value: r.fields.length });
    }
  }
  const hasLabel = options.labelColumn !== undefined;
  const hasTargets = options.targetColumns !== undefined;
  if (hasLabel === hasTargets) throw new BadInputError(`${name}: give a label column or target columns${hasLabel ? ', not both' : ''}`, { file: name });
  if (hasTargets && options.targetColumns!.length === 0) throw new BadInputError(`${name}: target columns is empty`, { file: name });
  const label = hasLabel ? columnIndex(options.labelColumn!, header, name, 'label') : -1;
  const targets = hasTargets ? options.targetColumns!.map((c) => columnIndex(c, header, name, 'target')) : [];
  const used = new Set([label, ...targets]);
  const features = options.features
    ? options.features.map((c) => columnIndex(c, header, name, 'feature'))
    : header.map((_, i) => i).filter((i) => !used.has(i));
  if (features.length === 0) throw new BadInputError(`${name}: no feature columns left besides the ${hasLabel ? 'label' : 'targets'}`, { file: name });
  const clash = features.find((f) => used.has(f));
  if (clash !== undefined) throw new BadInputError(`${name}: column ${JSON.stringify(header[clash])} is both a feature and the ${hasLabel ? 'label' : 'target'}`, { file: name, value: header[clash] });
  const repeated = [...features, ...targets].find((c, i, all) => all.indexOf(c) !== i);
  if (repeated !== undefined) throw new BadInputError(`${name}: column ${JSON.stringify(header[repeated])} is named twice`, { file: name, value: header[repeated] });

  const numbers = (columns: number[], role: string): Float32Array => {
    const out = new Float32Array(rows.length * columns.length);
    rows.forEach((r, i) => columns.forEach((c, j) => {
      const x = numberOf(r.fields[c]);
      if (x === undefined) {
        throw new BadInputError(`${name}: line ${r.line}, column ${JSON.stringify(header[c])}: ${JSON.stringify(r.fields[c].trim())} is not a number` +
          (role === 'feature' && !options.features ? ' (choose the feature columns: the features option, --features on the command line)' : ''), { file: name, value: r.fields[c] });
      }
      if (!Number.isFinite(Math.fround(x))) throw new BadInputError(`${name}: line ${r.line}, column ${JSON.stringify(header[c])}: ${x} overflows f32`, { file: name, value: x });
      out[i * columns.length + j] = x;
    }));
    return out;
  };
  const images = numbers(features, 'feature');
  const base = { name, images, count: rows.length, features: features.length, featureNames: features.map((f) => header[f]) };
  if (hasTargets) {
    return { ...base, labels: new Uint8Array(0), targets: { values: numbers(targets, 'target'), width: targets.length }, targetNames: targets.map((t) => header[t]) };
  }
  return { ...base, labelName: header[label], ...classLabels(rows, label, header[label], name) };
}

/** A label column as class indices: all non-negative integers as they are, else names in sorted order. */
function classLabels(rows: CsvRecord[], column: number, columnName: string, name: string): { labels: Uint32Array | Uint8Array; classes: number; classNames?: string[] } {
  const fields = rows.map((r) => r.fields[column].trim());
  const empty = fields.findIndex((f) => f === '');
  if (empty >= 0) throw new BadInputError(`${name}: line ${rows[empty].line}, column ${JSON.stringify(columnName)}: the label is empty`, { file: name });
  const values = fields.map(numberOf);
  if (values.every((v) => v !== undefined)) {
    const bad = values.findIndex((v) => !(Number.isInteger(v) && v! >= 0));
    if (bad >= 0) {
      throw new BadInputError(`${name}: line ${rows[bad].line}, column ${JSON.stringify(columnName)}: label ${fields[bad]} is not a class index (an integer ≥ 0); ` +
        'for a number to predict, make it a target column', { file: name, value: fields[bad] });
    }
    const classes = Math.max(2, (values as number[]).reduce((a, b) => Math.max(a, b), 0) + 1);
    const labels = classes <= 256 ? Uint8Array.from(values as number[]) : Uint32Array.from(values as number[]);
    return { labels, classes };
  }
  const classNames = [...new Set(fields)].sort();
  if (classNames.length < 2) throw new BadInputError(`${name}: column ${JSON.stringify(columnName)} holds one class, ${JSON.stringify(classNames[0])}; a classifier needs at least 2`, { file: name });
  const index = new Map(classNames.map((c, i) => [c, i]));
  const labels = classNames.length <= 256 ? new Uint8Array(fields.length) : new Uint32Array(fields.length);
  fields.forEach((f, i) => { labels[i] = index.get(f)!; });
  return { labels, classes: classNames.length, classNames };
}
