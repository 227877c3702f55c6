import { defineConfig } from 'vitest/config';

/**
 * Tests that assert on timing across real processes (SIGKILL, SIGTERM grace periods, a Redis
 * restart, a browser playing video) run last and alone: beside a CPU-heavy media test on a
 * 2-core machine their deadlines measure the neighbour, not the code.
 */
const ALONE = [
  'test/integration/distributed.test.ts',
  'test/integration/serve-distributed.test.ts',
  'test/integration/dashboard.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      // Media tests spawn ffmpeg; on a 2-core machine more parallel files only thrash.
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: ALONE,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'alone',
          include: ALONE,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
