// The draws of augmentation, shared by its kernels (shaders/augment.ts, shaders/elastic.ts): every random number
// is a hash of (seed, step, batch row, index), so a run, its resume and the float64 twin (src/augment/reference.ts)
// see the same images. Needs the Batch uniform bound as `batch`.
import { PCG_HASH } from './common.js';

export const AUGMENT_DRAWS = `${PCG_HASH}
// The key of batch row \`row\`'s draws: a hash of (seed, step, row).
fn rowKey(row: u32) -> u32 { return pcgHash(batch.seed ^ pcgHash(batch.step ^ pcgHash(row))); }
// Draw \`index\` under \`key\`, uniform in [−1, 1) on a grid of 2⁻²³ (exact in f32).
fn draw(key: u32, index: u32) -> f32 { return f32(pcgHash(key + index) >> 8u) * (1.0 / 8388608.0) - 1.0; }
// Two draws from one hash (its low and high 16 bits), each uniform on the 2¹⁶ centres of a grid of 2⁻¹⁵ over
// [−1, 1) (exact in f32): the elastic noise, where hashing is half a pass's time.
fn drawPair(key: u32, index: u32) -> vec2f {
  let h = pcgHash(key + index);
  return (vec2f(f32(h & 65535u), f32(h >> 16u)) + 0.5) * (1.0 / 32768.0) - 1.0;
}`;
