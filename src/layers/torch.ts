// A model's PyTorch network as data: each layer's torch.nn module and its constructor's arguments, in order, as
// its module says (LayerModule.torch). test/torch_interop.py builds nn.Sequential from this list, whose state
// dict then has the engine's tensor names (`${index}.weight`, …).
import type { Architecture } from './architecture.js';
import type { TorchModule } from './layer.js';

/** The nn.Sequential of an architecture, as `{ module, args }` per layer. */
export const torchModules = (arch: Architecture): TorchModule[] => arch.layers.map((l) => l.module.torch(l.spec as never, l));
