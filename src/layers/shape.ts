// What flows between layers, per row: a feature vector [features], or an image [channels, height, width].
// Images are held channels-last on the GPU and in the float64 twins ([height × width × channels] per row), so a
// convolution's im2col product writes its output as it is; flatten turns them into PyTorch's (C, H, W) order.
import { BadInputError } from '../errors.js';

/** The shape of one row between layers: [features], or an image [channels, height, width]. */
export type Shape = readonly number[];

export const isImage = (s: Shape): s is readonly [number, number, number] => s.length === 3;

export const elementsOf = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** '784' or '1×28×28'. */
export const formatShape = (s: Shape): string => s.join('×');

/** A model's input as given: a width, or an image [channels, height, width]. */
export type InputShape = number | readonly number[];

export function checkedInputShape(input: InputShape): Shape {
  const shape = typeof input === 'number' ? [input] : [...input];
  if (!(shape.length === 1 || shape.length === 3) || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new BadInputError(`a model's input is a positive integer width or [channels, height, width], got ${JSON.stringify(input)}`);
  }
  return shape;
}

/** The written form of an input shape in checkpoints' metadata: '784' or '[1,28,28]'. */
export const inputShapeText = (s: Shape): string => (s.length === 1 ? String(s[0]) : JSON.stringify(s));

export function parseInputShape(text: string): Shape {
  const value: unknown = text.trim().startsWith('[') ? JSON.parse(text) : Number(text);
  if (!(typeof value === 'number' || Array.isArray(value))) throw new BadInputError(`not a width or a shape: '${text}'`);
  return checkedInputShape(value as InputShape);
}
