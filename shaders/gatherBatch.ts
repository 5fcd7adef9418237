// Gathers one training batch on the GPU from a data set that stays in GPU memory: the rows order[start ..
// start + rows) of images into the plan's input (rows past `rows` zeroed), and their labels. So a training step
// uploads no inputs, only its small uniforms.
//   input[capacity × features], batchLabels[capacity] u32  ←  images[count × features], labels[count] u32, order[count] u32
// Variants by input kind; any capacity and features ≥ 1:
//   u8   pixels packed four to a u32, in the source and the input. When features % 4 = 0 a word of the input
//        is one word of the source; otherwise its four bytes may come from two rows and are assembled byte by byte.
//   f32  one word per feature, copied as bits (no float arithmetic, so the batch is the data bit for bit).
// One invocation per u32 word of the input (and per label).
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BATCH_STRUCT } from './batchUniform.js';
import { input, output, uniform, type Binding } from './bindings.js';
import { flatIndex } from './common.js';

export type GatherInput = 'u8' | 'f32';

export const GATHER_BATCH_BINDINGS: Binding[] = [
  input('images'), input('labels'), input('order'), output('input'), output('batchLabels'), uniform('batch'),
];
export const GATHER_LABELS_BINDINGS: Binding[] = [input('labels'), input('order'), output('batchLabels'), uniform('batch')];

// The data set's index of the batch's row (clamped: rows past the batch are zeroed, not read).
export const SOURCE_ROW = 'fn sourceRow(row: u32) -> u32 { return order[min(batch.start + row, arrayLength(&order) - 1u)]; }';

/** u32 words of a batch's input: four u8 pixels or one f32 feature each. */
export const gatherInputWords = (capacity: number, features: number, kind: GatherInput) =>
  kind === 'f32' ? capacity * features : Math.ceil((capacity * features) / 4);

export const gatherInvocations = (capacity: number, features: number, kind: GatherInput = 'u8') =>
  Math.max(gatherInputWords(capacity, features, kind), capacity);

export function gatherBatchShader(workgroupSize: number, capacity: number, features: number, kind: GatherInput = 'u8'): string {
  if (!(capacity >= 1 && features >= 1)) throw new Error(`gatherBatch needs capacity, features ≥ 1, got ${capacity}, ${features}`);
  return wgsl`
const F = ${features}u;
const CAPACITY = ${capacity}u;
const INPUT_WORDS = ${gatherInputWords(capacity, features, kind)}u;
const INVOCATIONS = ${gatherInvocations(capacity, features, kind)}u;

${BATCH_STRUCT}

@group(0) @binding(0) var<storage, read> images: array<u32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> input: array<u32>;
@group(0) @binding(4) var<storage, read_write> batchLabels: array<u32>;
@group(0) @binding(5) var<uniform> batch: Batch;

${SOURCE_ROW}

#if ${kind === 'u8' && features % 4 !== 0}
// Byte pos of the batch (row-major rows × F), or 0 past the batch's rows.
fn sourceByte(pos: u32) -> u32 {
  let row = pos / F;
  if (row >= batch.rows) { return 0u; }
  let src = sourceRow(row) * F + pos % F;
  return extractBits(images[src / 4u], (src % 4u) * 8u, 8u);
}
#endif

@compute @workgroup_size(${workgroupSize})
fn gatherBatch(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let w = ${flatIndex(workgroupSize)};
  if (w >= INVOCATIONS) { return; }
  if (w < INPUT_WORDS) {
#if ${kind === 'f32'}
    let row = w / F;
    input[w] = select(0u, images[sourceRow(row) * F + w % F], row < batch.rows);
#elif ${features % 4 === 0}
    let row = (w * 4u) / F;
    let word = images[(sourceRow(row) * F + (w * 4u) % F) / 4u];
    input[w] = select(0u, word, row < batch.rows);
#else
    let p = w * 4u;
    input[w] = sourceByte(p) | (sourceByte(p + 1u) << 8u) | (sourceByte(p + 2u) << 16u) | (sourceByte(p + 3u) << 24u);
#endif
  }
  if (w < CAPACITY) {
    batchLabels[w] = select(0u, labels[sourceRow(w)], w < batch.rows);
  }
}
`;
}

/**
 * batchLabels[capacity] ← labels at order[start .. start + rows), zero past the batch: the labels alone, for
 * batches whose images augmentation reads from the data set itself (shaders/augment.ts, source 'dataset').
 */
export function gatherLabelsShader(workgroupSize: number, capacity: number): string {
  return `
const CAPACITY = ${capacity}u;

${BATCH_STRUCT}

@group(0) @binding(0) var<storage, read> labels: array<u32>;
@group(0) @binding(1) var<storage, read> order: array<u32>;
@group(0) @binding(2) var<storage, read_write> batchLabels: array<u32>;
@group(0) @binding(3) var<uniform> batch: Batch;

${SOURCE_ROW}

@compute @workgroup_size(${workgroupSize})
fn gatherLabels(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let w = ${flatIndex(workgroupSize)};
  if (w >= CAPACITY) { return; }
  batchLabels[w] = select(0u, labels[sourceRow(w)], w < batch.rows);
}
`;
}

export const GATHER_TARGETS_BINDINGS: Binding[] = [input('targets'), input('order'), output('batchTargets'), uniform('batch')];

/**
 * batchTargets[capacity × width] ← the float target rows at order[start .. start + rows), zero past the batch:
 * a resident set's targets (the 'mse' and 'bce' losses), copied as bits. One invocation per value.
 */
export function gatherTargetsShader(workgroupSize: number, capacity: number, width: number): string {
  if (!(capacity >= 1 && width >= 1)) throw new Error(`gatherTargets needs capacity, width ≥ 1, got ${capacity}, ${width}`);
  return `
const CAPACITY = ${capacity}u;
const WIDTH = ${width}u;

${BATCH_STRUCT}

@group(0) @binding(0) var<storage, read> targets: array<u32>;
@group(0) @binding(1) var<storage, read> order: array<u32>;
@group(0) @binding(2) var<storage, read_write> batchTargets: array<u32>;
@group(0) @binding(3) var<uniform> batch: Batch;

${SOURCE_ROW}

@compute @workgroup_size(${workgroupSize})
fn gatherTargets(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let w = ${flatIndex(workgroupSize)};
  if (w >= CAPACITY * WIDTH) { return; }
  let row = w / WIDTH;
  batchTargets[w] = select(0u, targets[sourceRow(row) * WIDTH + w % WIDTH], row < batch.rows);
}
`;
}
