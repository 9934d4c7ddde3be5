import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    // One training thread per test process (the files already run side by side); tests of data-parallel training set
    // their worker count themselves.
    env: { NETADAPT_TRAIN_WORKERS: '1' },
  },
});
