// The matmul variant per shape of the MLPs' training steps, as measured by `npm run autotune` on a real GPU.
// Regenerate with: npm run autotune -- --adapter system --hidden 500 --batch-size 128 --write-defaults
import type { MatmulVariant } from '../../shaders/matmul.js';

export interface MeasuredVariants {
  /** The adapter the table was measured on, and the command. */
  adapter: string;
  command: string;
  choices: Record<string, MatmulVariant>;
}

export const GPU_MEASURED: MeasuredVariants = {
  adapter: 'none yet',
  command: '',
  choices: {},
};
