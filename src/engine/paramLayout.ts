// All parameters of a model in one flat f32 buffer (and gradients, Adam moments in buffers of the same layout).
// Each tensor starts at a multiple of minStorageBufferOffsetAlignment, so a layer binds its own sub-range,
// and the total is a multiple of 4 floats, so the optimizer can run over vec4s.

export interface TensorSlot {
  name: string;
  shape: number[];
  /** Offset in floats. */
  offset: number;
  length: number;
}

export interface ParamLayout {
  tensors: TensorSlot[];
  /** Floats in the flat buffer, padding included. */
  totalLength: number;
  /** Floats that are parameters (no padding). */
  parameterCount: number;
}

export function makeParamLayout(tensors: { name: string; shape: number[] }[], alignmentBytes: number): ParamLayout {
  const alignFloats = Math.max(4, alignmentBytes / 4);
  const slots: TensorSlot[] = [];
  let offset = 0;
  let parameterCount = 0;
  for (const t of tensors) {
    const length = t.shape.reduce((a, b) => a * b, 1);
    slots.push({ name: t.name, shape: [...t.shape], offset, length });
    parameterCount += length;
    offset = Math.ceil((offset + length) / alignFloats) * alignFloats;
  }
  return { tensors: slots, totalLength: Math.max(4, offset), parameterCount };
}

export function slotOf(layout: ParamLayout, name: string): TensorSlot {
  const slot = layout.tensors.find((t) => t.name === name);
  if (!slot) throw new Error(`no tensor named '${name}' (have ${layout.tensors.map((t) => t.name).join(', ')})`);
  return slot;
}

/** The binding range of a tensor inside a flat buffer. */
export function sliceOf(buffer: GPUBuffer, slot: TensorSlot): { buffer: GPUBuffer; offset: number; size: number } {
  return { buffer, offset: slot.offset * 4, size: Math.ceil(slot.length / 4) * 16 };
}
