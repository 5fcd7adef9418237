// A model's summary, as Keras prints it: each layer's written form, output shape, parameter count and whether
// training updates it, then the totals. As data (summarize) and as a text table (formatSummary).
import type { Architecture } from '../layers/architecture.js';
import { formatLayers } from '../layers/index.js';
import { formatShape } from '../layers/shape.js';

/** One layer's line of a model's summary. */
export interface LayerSummary {
  /** Its index (PyTorch's nn.Sequential index: its tensors are named `${index}.weight`, …). */
  index: number;
  /** Its written form: 'conv2d:8:k=5', 'relu'. */
  layer: string;
  /** The shape of one row of its output: [features] or [channels, height, width]. */
  outputShape: number[];
  /** Its trained values (weights and biases; batch norm's running estimates are not parameters). */
  parameters: number;
  /** 'trainable', 'frozen' (`trainable: false`), or '' for a layer without parameters. */
  training: 'trainable' | 'frozen' | '';
}

/** A model's summary as data (see Model.summary for the text). */
export interface ModelSummary {
  /** The shape of one input row. */
  inputShape: number[];
  /** One line per layer, in order. */
  layers: LayerSummary[];
  /** Parameters in all (Model.parameterCount). */
  total: number;
  /** Parameters training updates. */
  trainable: number;
  /** Parameters of frozen layers. */
  frozen: number;
}

export function summarize(a: Architecture): ModelSummary {
  const layers = a.layers.map((l): LayerSummary => {
    const parameters = l.parameters.reduce((n, p) => n + p.shape.reduce((x, y) => x * y, 1), 0);
    return { index: l.index, layer: formatLayers([l.spec]), outputShape: [...l.outputShape], parameters, training: parameters === 0 ? '' : l.trainable ? 'trainable' : 'frozen' };
  });
  const sum = (of: LayerSummary[]) => of.reduce((n, l) => n + l.parameters, 0);
  const frozen = sum(layers.filter((l) => l.training === 'frozen'));
  const total = sum(layers);
  return { inputShape: [...a.inputShape], layers, total, trainable: total - frozen, frozen };
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 *  #  layer         output shape  parameters  training
 *  0  conv2d:8:k=5  8×24×24              208  frozen
 *  …
 * then the totals: parameters in all, trainable, frozen.
 */
export function formatSummary(s: ModelSummary): string {
  const head = ['#', 'layer', 'output shape', 'parameters', 'training'];
  const rows = [
    ['', 'input', formatShape(s.inputShape), '', ''],
    ...s.layers.map((l) => [String(l.index), l.layer, formatShape(l.outputShape), count(l.parameters), l.training]),
  ];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  // Numbers right-aligned, text left-aligned.
  const line = (cells: string[]) => cells.map((x, c) => (c === 0 || c === 3 ? x.padStart(widths[c]) : x.padEnd(widths[c]))).join('  ').trimEnd();
  const rule = '─'.repeat(line(head).length);
  return [
    line(head), rule, ...rows.map(line), rule,
    `parameters: ${count(s.total)} (trainable ${count(s.trainable)}, frozen ${count(s.frozen)})`,
  ].join('\n');
}
