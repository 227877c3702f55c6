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
  'test/integration/dashboard-job-page.test.ts',
  'test/integration/dash-playback.test.ts',
];

/** Finds or starts Redis; only the integration projects need it. */
const REDIS = ['test/helpers/global-setup.ts'];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The embedded S3 server's default port is fixed for users; test files run side by side, so
    // every CLI they spawn picks a free one (it inherits this environment).
    env: { MEDIAFLOW_EMBEDDED_S3_PORT: '0' },
    projects: [
      // Pure logic: no Redis, ffmpeg, storage or network (`npm run test:unit`).
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/helpers/no-sockets.ts'],
          testTimeout: 10_000,
          // Runs beside the media tests in `npm test`; vitest needs one worker cap per group.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      // Media tests spawn ffmpeg; on a 2-core machine more parallel files only thrash.
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/integration/**/*.test.ts'],
          exclude: ALONE,
          globalSetup: REDIS,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'alone',
          include: ALONE,
          globalSetup: REDIS,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
