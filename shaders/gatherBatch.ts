// Gathers one training batch on the GPU from a data set that stays in GPU memory: the rows order[start ..
// start + rows) of images (u8 pixels packed four to a u32) into the plan's input (packed the same way, rows past
// `rows` zeroed), and their labels. So a training step uploads no pixels, only its small uniforms.
//   input[capacity × features] u8, batchLabels[capacity] u32  ←  images[count × features] u8, labels[count] u32, order[count] u32
// One invocation per u32 word of the input (and per label). When features % 4 = 0 a word is one word of the
// source; otherwise its four bytes may come from two rows and are assembled byte by byte.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BATCH_STRUCT } from './batchUniform.js';
import { input, output, uniform, type Binding } from './bindings.js';
import { flatIndex } from './common.js';

export const GATHER_BATCH_BINDINGS: Binding[] = [
  input('images'), input('labels'), input('order'), output('input'), output('batchLabels'), uniform('batch'),
];

export const gatherInvocations = (capacity: number, features: number) => Math.max(Math.ceil((capacity * features) / 4), capacity);

export function gatherBatchShader(workgroupSize: number, capacity: number, features: number): string {
  if (!(capacity >= 1 && features >= 1)) throw new Error(`gatherBatch needs capacity, features ≥ 1, got ${capacity}, ${features}`);
  return wgsl`
const F = ${features}u;
const CAPACITY = ${capacity}u;
const INPUT_WORDS = ${Math.ceil((capacity * features) / 4)}u;
const INVOCATIONS = ${gatherInvocations(capacity, features)}u;

${BATCH_STRUCT}

@group(0) @binding(0) var<storage, read> images: array<u32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> input: array<u32>;
@group(0) @binding(4) var<storage, read_write> batchLabels: array<u32>;
@group(0) @binding(5) var<uniform> batch: Batch;

// Byte pos of the batch (row-major rows × F), or 0 past the batch's rows.
fn sourceByte(pos: u32) -> u32 {
  let row = pos / F;
  if (row >= batch.rows) { return 0u; }
  let src = order[min(batch.start + row, arrayLength(&order) - 1u)] * F + pos % F;
  return extractBits(images[src / 4u], (src % 4u) * 8u, 8u);
}

@compute @workgroup_size(${workgroupSize})
fn gatherBatch(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let w = ${flatIndex(workgroupSize)};
  if (w >= INVOCATIONS) { return; }
  if (w < INPUT_WORDS) {
#if ${features % 4 === 0}
    let row = (w * 4u) / F;
    let word = images[(order[min(batch.start + row, arrayLength(&order) - 1u)] * F + (w * 4u) % F) / 4u];
    input[w] = select(0u, word, row < batch.rows);
#else
    let p = w * 4u;
    input[w] = sourceByte(p) | (sourceByte(p + 1u) << 8u) | (sourceByte(p + 2u) << 16u) | (sourceByte(p + 3u) << 24u);
#endif
  }
  if (w < CAPACITY) {
    batchLabels[w] = select(0u, labels[order[min(batch.start + w, arrayLength(&order) - 1u)]], w < batch.rows);
  }
}
`;
}
