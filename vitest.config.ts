import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Media tests spawn ffmpeg; on a 2-core machine more parallel files only thrash.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
