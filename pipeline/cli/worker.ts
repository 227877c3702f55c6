import { once } from 'node:events';
import { Redis } from 'ioredis';
import { killAllChildren } from '../../functions/ffmpeg/run-process.js';
import type { Config } from '../config/load.js';
import { createDistributedApp, type DistributedOptions } from '../distributed-app.js';
import type { Logger } from '../log.js';
import { queueNames } from '../runner/bullmq-keys.js';
import { startHeartbeat, thisProcess } from '../runner/heartbeat.js';
import { WorkerRegistry } from '../runner/worker-registry.js';
import { binarySummary } from '../tasks/media-tools.js';
import { MEDIAFLOW_VERSION } from '../version.js';
import { EXIT } from './exit-codes.js';
import { startOrphanReaper } from './orphan-reaper.js';
import { startPatiently } from './start-patiently.js';

/**
 * `mediaflow worker`: runs tasks from the BullMQ queues until SIGTERM or SIGINT, then shuts down
 * gracefully: no new tasks are taken, running ones get MEDIAFLOW_SHUTDOWN_GRACE_S to finish, and
 * whatever is still running is aborted (its ffmpeg process groups killed) and handed back to the
 * queue for another worker. Exits 0 after a graceful stop; a second signal exits at once.
 *
 * `options` exists for tests and embedders (other handlers and workflows, shorter locks); the CLI
 * passes none, so production workers run the production registries.
 */
export async function runWorker(
  config: Config,
  log: Logger,
  options: Omit<DistributedOptions, 'consume'> & { reapIntervalMs?: number } = {},
): Promise<number> {
  const { reapIntervalMs = 5000, ...appOptions } = options;
  // Started during a storage or Redis outage, the worker waits for them instead of exiting.
  const stopping = new AbortController();
  const stopStart = () => stopping.abort();
  process.once('SIGTERM', stopStart).once('SIGINT', stopStart);
  const app = await startPatiently(
    () => createDistributedApp(config, log, { ...appOptions, consume: true }),
    log,
    { signal: stopping.signal },
  ).finally(() => process.off('SIGTERM', stopStart).off('SIGINT', stopStart));
  // Listened for from here on: a signal during the start of the heartbeat stops gracefully too.
  const signalled = Promise.race([
    once(process, 'SIGTERM').then(() => 'SIGTERM'),
    once(process, 'SIGINT').then(() => 'SIGINT'),
  ]);
  // Media processes of workers that died on this machine (kill -9) are found and killed.
  const stopReaper = startOrphanReaper(
    config.scratchDir,
    reapIntervalMs,
    (pids) => log.warn({ pids }, 'killed media processes orphaned by a dead worker'),
    (folders) => log.warn({ folders }, 'removed local scratch of a dead worker'),
  );
  // Announced before "ready", so whoever waits for ready finds the worker listed.
  const redis = new Redis(app.redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {}); // a failed beat is reported below, once per beat
  const identity = thisProcess(config.worker.concurrency, {
    mediaflow: MEDIAFLOW_VERSION,
    ffmpeg: binarySummary(app.binaries).ffmpeg.version,
  });
  const heartbeat = await startHeartbeat({
    registry: new WorkerRegistry(redis, config.queuePrefix),
    identity,
    intervalMs: config.worker.heartbeatMs,
    tasks: () => app.runner.runningTasks(),
    onError: (error) => log.warn({ err: (error as Error).message }, 'heartbeat not written'),
  });
  log.info(
    {
      id: identity.id,
      queue: queueNames(config.queuePrefix).tasks,
      concurrency: config.worker.concurrency,
      graceS: config.worker.shutdownGraceMs / 1000,
    },
    'worker ready',
  );

  const signal = await signalled;
  const forced = () => {
    log.warn({}, 'second signal: exiting without waiting');
    killAllChildren();
    process.exit(EXIT.UNAVAILABLE);
  };
  process.once('SIGTERM', forced).once('SIGINT', forced);
  log.info({ signal, running: app.runner.activeTasks }, 'worker stopping');
  // Not awaited: a Redis outage must not delay the shutdown (the beats keep their order).
  void heartbeat.stopping();

  await app.runner.shutdown(config.worker.shutdownGraceMs, () => {
    const killed = killAllChildren();
    log.warn({ killed }, 'grace period over: running tasks aborted and released');
  });
  // Anything a handler spawned and did not reap is killed on the way out.
  killAllChildren();
  stopReaper();
  await app.close();
  // Removed last: until now the worker may still hold tasks, and the page should say so.
  await heartbeat.stop();
  redis.disconnect();
  log.info({}, 'worker stopped');
  return EXIT.OK;
}
