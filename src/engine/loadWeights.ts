// Loading another model's trained tensors into this one by name and shape, as PyTorch's
// load_state_dict(strict=False) does: each tensor of this model ("0.weight", "4.running_mean", …) takes the
// source's tensor of the same name when the shapes agree (PyTorch's shapes); the rest stay as initialized. The
// report says what was loaded, what the source had that was not taken, and what the source lacked.
import { BadInputError } from '../errors.js';
import type { Tensor } from '../data/safetensors.js';
import { parametersOf, statesOf, type Architecture } from '../layers/architecture.js';
import { fromTorchTensors, torchShape, type TorchTensorDecl } from './modelState.js';
import { makeParamLayout, slotOf, type ParamLayout } from './paramLayout.js';

/** Options of Model.loadWeights. */
export interface LoadWeightsOptions {
  /**
   * true (the default, as PyTorch's): every tensor of this model must be in the source with its shape, and the
   * source may hold no other, else a BadInputError names the first that is not. false: load what fits, report the rest.
   */
  strict?: boolean;
  /** Names the source in error messages and the report (a file name, say). Default 'source'. */
  source?: string;
}

/** What Model.loadWeights did: PyTorch's missing_keys and unexpected_keys, with the shape mismatches beside them. */
export interface LoadReport {
  /** This model's tensors that took the source's values. */
  loaded: string[];
  /** The source's tensors that were not taken, each with why: no such tensor here, or another shape. */
  skipped: {
    /** The tensor's name in the source. */
    name: string;
    /** Why it was not taken. */
    reason: string;
  }[];
  /** This model's tensors the source does not have: left as they were (as initialized, for a new model). */
  missing: string[];
}

/** A tensor to write: into the parameters or the kept state, at an offset in floats, in the engine's layout. */
export interface WeightWrite {
  into: 'params' | 'state';
  offset: number;
  data: Float32Array<ArrayBuffer>;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Matches the source's tensors to the model's by name and PyTorch shape, checking every value that will be
 * taken, before anything is written: the report and the writes that carry it out.
 */
export function matchWeights(
  tensors: Map<string, Tensor>, arch: Architecture, layouts: { params: ParamLayout; state: ParamLayout }, options: LoadWeightsOptions = {},
): { report: LoadReport; writes: WeightWrite[] } {
  const { strict = true, source = 'source' } = options;
  const report: LoadReport = { loaded: [], skipped: [], missing: [] };
  const writes: WeightWrite[] = [];
  const here = new Set<string>();
  const decls = [
    ...parametersOf(arch).map((p): [WeightWrite['into'], TorchTensorDecl] => ['params', p]),
    ...statesOf(arch).map((s): [WeightWrite['into'], TorchTensorDecl] => ['state', s]),
  ];
  for (const [into, decl] of decls) {
    here.add(decl.name);
    const t = tensors.get(decl.name);
    const shape = torchShape(decl);
    if (!t) {
      if (strict) throw new BadInputError(`loadWeights: ${source} has no tensor ${decl.name} (shape ${shapeText(shape)} here); strict: false loads what fits`, { tensor: decl.name });
      report.missing.push(decl.name);
    } else if (t.shape.join() !== shape.join()) {
      const reason = `shape ${shapeText(t.shape)} in ${source}, ${shapeText(shape)} here`;
      if (strict) throw new BadInputError(`loadWeights: tensor ${decl.name} has ${reason}; strict: false loads what fits`, { tensor: decl.name });
      report.skipped.push({ name: decl.name, reason });
    } else {
      // Values checked (finite, as many as the shape says) and transposed to the engine's layout.
      const one = makeParamLayout([decl], 16);
      const data = fromTorchTensors(tensors, source, one, [decl]).slice(0, one.tensors[0].length);
      // As checkModelState: a negative running variance would make every later evaluation NaN.
      if (decl.name.endsWith('.running_var') && data.some((v) => v < 0)) throw new BadInputError(`loadWeights: ${source}: ${decl.name} holds a negative variance`, { tensor: decl.name });
      writes.push({ into, offset: slotOf(layouts[into], decl.name).offset, data });
      report.loaded.push(decl.name);
    }
  }
  // Batch norm's count of training forwards is derived from the optimizer step here: not a tensor to take.
  const counted = new Set(arch.layers.filter((l) => l.spec.kind === 'batchnorm').map((l) => `${l.index}.num_batches_tracked`));
  for (const name of tensors.keys()) {
    if (here.has(name) || counted.has(name) || name.startsWith('optimizer.')) continue;
    if (strict) throw new BadInputError(`loadWeights: ${source}'s tensor ${name} has no place in ${arch.name}; strict: false loads what fits`, { tensor: name });
    report.skipped.push({ name, reason: `no tensor ${name} here` });
  }
  return { report, writes };
}
