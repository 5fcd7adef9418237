// npm run export -- --model FILE.safetensors --onnx FILE.onnx [--logits]: a saved model as ONNX (src/export/onnx.ts),
// for ONNX Runtime and other inference engines. Needs no GPU: the file's weights are written as they are.
import { encodeOnnx, ONNX_OPSET } from '../export/onnx.js';
import { architecture } from '../layers/architecture.js';
import { checkOutputs, writeFileAtomic } from '../node/files.js';
import { readModelFile } from '../node/modelFiles.js';
import { asInvoked, parseFlags, runIfEntry, UsageError } from './args.js';
import { int } from './report.js';

export const USAGE = `usage: npm run export -- --model FILE.safetensors --onnx FILE.onnx [--logits]
Writes the model as ONNX (opset ${ONNX_OPSET}): input 'pixels' uint8 [batch, 784] (the bytes predict takes; normalized
inside the graph), output 'probabilities' [batch, classes], or 'logits' with --logits.`;

export async function main(): Promise<void> {
  const flags = parseFlags({ model: { type: 'string' }, onnx: { type: 'string' }, logits: { type: 'boolean' } });
  if (!flags.model || !flags.onnx) throw new UsageError(asInvoked(USAGE).split('\n')[0]);
  if (!flags.onnx.endsWith('.onnx')) throw new UsageError(`--onnx: '${flags.onnx}' must end in .onnx`);
  checkOutputs({ onnx: flags.onnx }, { model: flags.model });
  // Read and checked as evaluate and predict read it, before anything is written: its tensors against the
  // architecture its metadata claims, their values, its pixel normalization, nothing left over.
  const { state } = readModelFile(flags.model);
  const bytes = encodeOnnx(state, { softmax: !flags.logits });
  writeFileAtomic(flags.onnx, bytes, 'onnx');
  const arch = architecture(state.layers, state.inputs);
  console.log(`exported: ${flags.onnx} (${arch.name}; ${int(bytes.length)} bytes; input '${state.input === 'u8' ? 'pixels' : 'features'}' [batch, ${arch.inputs}], output '${flags.logits ? 'logits' : 'probabilities'}' [batch, ${arch.classes}])`);
}

runIfEntry(import.meta.url, 'export', main, USAGE);
