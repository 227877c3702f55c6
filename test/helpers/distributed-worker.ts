/**
 * A `mediaflow worker` for child-process tests: the same `runWorker` the CLI runs (BullMQ consumer,
 * signal handling, graceful shutdown), with the media-free copy workflow and the ffmpeg test
 * workflow instead of the production registries, short locks so a killed worker's task is recovered
 * in seconds, and a fast orphan reaper. Injecting them here, at the composition root, keeps
 * production code free of test-only switches. Run with `node bin/run-ts.js
 * test/helpers/distributed-worker.ts`.
 */
import { loadConfig } from '../../pipeline/config/load.js';
import { runWorker } from '../../pipeline/cli/worker.js';
import { createLogger } from '../../pipeline/log.js';
import { copyHandlers, copyWorkflow } from './copy-workflow.js';
import { ffmpegHandlers, ffmpegWorkflow } from './ffmpeg-workflow.js';

export const TEST_WORKFLOWS = new Map([
  ['image', copyWorkflow],
  ['video', ffmpegWorkflow],
] as const);
export const TEST_HANDLERS = new Map([...copyHandlers, ...ffmpegHandlers]);
export const TEST_LOCK = { lockDurationMs: 3000, stalledIntervalMs: 1000, maxStalledCount: 2 };

if (process.argv[1]?.endsWith('distributed-worker.ts')) {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  process.exitCode = await runWorker(config, log, {
    handlers: TEST_HANDLERS,
    workflows: TEST_WORKFLOWS,
    // TEST_MAX_STALLED lowers the stall limit, so a test reaches it with one kill.
    lock: process.env.TEST_MAX_STALLED
      ? { ...TEST_LOCK, maxStalledCount: Number(process.env.TEST_MAX_STALLED) }
      : TEST_LOCK,
    reapIntervalMs: 500,
  });
}
