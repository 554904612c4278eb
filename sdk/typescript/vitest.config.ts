import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // one shared server on a 2-core machine: files one after another keeps timings sane
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
