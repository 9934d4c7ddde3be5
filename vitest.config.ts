import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    // One training thread and one scoring thread per test process (the files already run side by side); tests of
    // the worker threads set their counts themselves.
    env: { NETADAPT_TRAIN_WORKERS: '1', NETADAPT_EVAL_WORKERS: '1' },
  },
});
