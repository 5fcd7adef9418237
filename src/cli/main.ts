// `npx webgpu-mlp <command> [flags]`: the package's command line (its `bin`), one command per module.
// Each command module exports its main, which reads its flags from argv once the command name is taken off.
import { runMain } from './args.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ main: () => Promise<void>; USAGE: string }> }> = {
  train: { summary: 'train an MLP on MNIST and report its test accuracy', load: () => import('./train.js') },
  evaluate: { summary: 'score a saved model on the MNIST test set', load: () => import('./evaluate.js') },
  predict: { summary: 'classify PNG images (or MNIST test images) with a saved model', load: () => import('./predict.js') },
  bench: { summary: 'time training steps and kernel variants on this machine', load: () => import('./bench.js') },
  sweep: { summary: 'train a grid of configurations and rank them', load: () => import('./sweep.js') },
  autotune: { summary: "pick the fastest kernel variants for a model's shapes", load: () => import('./autotune.js') },
  export: { summary: 'write a saved model as ONNX, for ONNX Runtime', load: () => import('./export.js') },
};

const commandName: string | undefined = process.argv[2];
const command = commandName === undefined ? undefined : COMMANDS[commandName];
if (!command && commandName === '--version') runMain('webgpu-mlp', async () => {});
if (!command) {
  const list = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`).join('\n');
  const help = commandName === undefined || commandName === '--help' || commandName === '-h';
  (help ? console.log : console.error)(`${help ? '' : `webgpu-mlp: unknown command '${commandName}'\n`}usage: webgpu-mlp <command> [flags]   (--help after a command lists its flags)\n${list}`);
  process.exit(help ? 0 : 2);
}
process.argv.splice(2, 1);
const loaded = await command!.load();
runMain(commandName!, loaded.main, loaded.USAGE, `webgpu-mlp ${commandName}`);
