import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests spawn engines and producers; two cores: keep files sequential.
    fileParallelism: false,
    pool: 'forks',
  },
});
