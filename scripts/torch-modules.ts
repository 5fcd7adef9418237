// Prints the PyTorch modules of a written layer list on an input shape, as JSON ([{ module, args }, …]), for
// test/torch_interop.py, which builds nn.Sequential from them: the layer kinds are known in one place only.
//   node --import tsx scripts/torch-modules.ts LAYERS INPUTS     (INPUTS: 784 or [1,28,28])
import { architecture } from '../src/layers/architecture.js';
import { parseLayers } from '../src/layers/index.js';
import { parseInputShape } from '../src/layers/shape.js';
import { torchModules } from '../src/layers/torch.js';

const [layers, inputs] = process.argv.slice(2);
try {
  // Any output width: a regression's one output is as valid here as ten classes (the file's loss was checked when written).
  process.stdout.write(`${JSON.stringify(torchModules(architecture(parseLayers(layers), parseInputShape(inputs ?? '784'), 1)))}\n`);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
