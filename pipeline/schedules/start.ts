import path from 'node:path';
import type { App } from '../app.js';
import { startBullmqScheduler } from '../runner/bullmq-schedules.js';
import { startInProcessScheduler } from './in-process.js';
import { usableSchedules, type ScheduleDeps, type Scheduler } from './port.js';

/**
 * Starts the schedules of the presets file for `mediaflow serve`: BullMQ job schedulers in the
 * distributed mode (one firing per time across every serve process), croner in the embedded one
 * (its runs recorded in `<MEDIAFLOW_DATA_DIR>/schedules.json` for catch-up after a restart).
 */
export async function startScheduler(app: App, onRun?: ScheduleDeps['onRun']): Promise<Scheduler> {
  const { config, log } = app;
  const schedules = usableSchedules(app.orchestrator.catalog.schedules, config.buckets.input, log);
  const deps: ScheduleDeps = {
    store: app.store,
    orchestrator: app.orchestrator,
    inputBucket: config.buckets.input,
    log,
    ...(onRun ? { onRun } : {}),
  };
  if (config.redisUrl)
    return startBullmqScheduler(deps, schedules, {
      redisUrl: config.redisUrl,
      queuePrefix: config.queuePrefix,
    });
  return startInProcessScheduler(
    deps,
    schedules,
    path.join(config.embedded.dataDir, 'schedules.json'),
  );
}
