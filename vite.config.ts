import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: '.',
  test: {
    include: ['test/**/*.test.ts'],
    // Each file opens one GPU device; SwiftShader is CPU-bound on 2 cores, so files run one at a time.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
