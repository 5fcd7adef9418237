// The matmul variant per shape of the MLPs' training steps, as measured by `npm run autotune` on a real GPU.
// Regenerate on a GPU with the two commands below (each writes its table with --json FILE) and merge the tables.
import type { MatmulVariant } from '../../shaders/matmul.js';

/**
 * A class of adapters: a vendor and, where known, its architectures or device names. A measured table applies
 * only to adapters of the class it was measured on; other GPUs get the shape rules (variants.ts).
 */
export interface AdapterClass {
  name: string;
  vendor: string;
  /** Dawn's architecture strings ('hopper'); or, where Dawn says 'unknown', device names that match. */
  architectures: string[];
  devices: RegExp;
}

export interface MeasuredVariants {
  /** The adapter the table was measured on, and the commands. */
  adapter: string;
  appliesTo: AdapterClass;
  commands: string[];
  choices: Record<string, MatmulVariant>;
}

export const GPU_MEASURED: MeasuredVariants = {
  adapter: 'nvidia / unknown / nvidia-h200 (NVIDIA driver 580.159.04), Node + Dawn (npm webgpu 0.6.2)',
  // H100 and H200 are both Hopper (sm_90): the same SMs, caches and workgroup memory.
  appliesTo: { name: 'NVIDIA Hopper', vendor: 'nvidia', architectures: ['hopper'], devices: /\bh(100|200)\b/i },
  commands: [
    'npm run autotune -- --adapter system --hidden 500 --batch-size 128 --fresh',
    'npm run autotune -- --adapter system --hidden 4096,4096 --batch-size 1024 --fresh',
  ],
  choices: {
    // Autotuned with A's slice transposed lane by lane into vec4s, a data race under WGSL's rules; race-free, the
    // same tiles measured 0.045 ms with transpose 'scalars' and 0.060 ms with 'units' (npm run bench).
    'nn 128×500×784 u8': {form: 'nn', vec4: true, tileRows: 4, tileCols: 4, workgroupSize: 64, tiled: {blockRows: 32, blockCols: 32, depth: 8}, transpose: 'scalars'},
    'tn 784×500×128 u8': {form: 'tn', vec4: true, tileRows: 4, tileCols: 4, workgroupSize: 256, tiled: {blockRows: 64, blockCols: 64, depth: 16}},
    'nn 128×10×500': {form: 'nn', vec4: false, tileRows: 1, tileCols: 1, workgroupSize: 64, reduceK: true},
    'tn 500×10×128': {form: 'tn', vec4: false, tileRows: 4, tileCols: 2, workgroupSize: 32, reduceK: true},
    'nt 128×500×10': {form: 'nt', vec4: false, tileRows: 1, tileCols: 1, workgroupSize: 64},
    'nn 1024×4096×784 u8': {form: 'nn', vec4: true, tileRows: 8, tileCols: 8, workgroupSize: 256, tiled: {blockRows: 128, blockCols: 128, depth: 8}},
    'tn 784×4096×1024 u8': {form: 'tn', vec4: true, tileRows: 8, tileCols: 8, workgroupSize: 256, tiled: {blockRows: 128, blockCols: 128, depth: 8}},
    'nn 1024×4096×4096': {form: 'nn', vec4: true, tileRows: 4, tileCols: 8, workgroupSize: 128, tiled: {blockRows: 64, blockCols: 64, depth: 8}},
    'tn 4096×4096×1024': {form: 'tn', vec4: true, tileRows: 8, tileCols: 8, workgroupSize: 256, tiled: {blockRows: 128, blockCols: 128, depth: 8}},
    'nt 1024×4096×4096': {form: 'nt', vec4: true, tileRows: 8, tileCols: 8, workgroupSize: 256, tiled: {blockRows: 128, blockCols: 128, depth: 8}},
    'nn 1024×10×4096': {form: 'nn', vec4: false, tileRows: 2, tileCols: 2, workgroupSize: 64, reduceK: true},
    'tn 4096×10×1024': {form: 'tn', vec4: false, tileRows: 1, tileCols: 1, workgroupSize: 64},
    'nt 1024×4096×10': {form: 'nt', vec4: false, tileRows: 4, tileCols: 4, workgroupSize: 256, tiled: {blockRows: 64, blockCols: 64, depth: 16}},
  },
};
