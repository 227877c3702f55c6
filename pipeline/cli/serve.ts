import { Redis } from 'ioredis';
import { assertSafeBinding } from '../api/auth.js';
import {
  BatchWebhooks,
  MemorySubscriptionStore,
  RedisSubscriptionStore,
} from '../api/batch-webhooks.js';
import { RedisIdempotencyStore } from '../api/idempotency.js';
import { SqliteIdempotencyStore } from '../api/idempotency-sqlite.js';
import { RedisJobOwners } from '../api/job-owners.js';
import { DEFAULT_RATE_LIMIT } from '../api/rate-limit.js';
import { buildServer, listen, type ServerOptions } from '../api/server.js';
import type { App } from '../app.js';
import type { Config } from '../config/load.js';
import { appForConfig } from '../distributed-app.js';
import type { Logger } from '../log.js';
import { DeliveryLimiter } from '../notify/delivery-limiter.js';
import { WebhookSender } from '../notify/webhook.js';
import { scratchRoot } from '../jobs/output-layout.js';
import { sweepScratch } from '../jobs/scratch-sweep.js';
import { startWatchdog } from '../jobs/watchdog.js';
import { reloadPresets } from '../presets/reload.js';
import { WorkerRegistry } from '../runner/worker-registry.js';
import { startScheduler } from '../schedules/start.js';
import { startTriggers } from '../triggers/start.js';
import { embeddedS3Line } from './embedded-banner.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** A running `mediaflow serve`: the app, its API, and the way to stop both. */
export interface ServeHandle {
  app: App;
  url: string;
  /** Puts the schedules of the presets file in force now (after a reload of the file). */
  reloadSchedules(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the app, its upload triggers and the API.
 *
 * Embedded (no REDIS_URL): the in-process runner and job state in SQLite in the data folder (kept
 * across restarts); uploads to the embedded store trigger jobs through its own events, and with an
 * external endpoint through the webhook (and the sweep, when MEDIAFLOW_SWEEP_INTERVAL_S is set).
 *
 * Idempotency-Key answers are kept in the data folder too.
 *
 * Distributed (REDIS_URL): job state in Redis and tasks on BullMQ workers (`appForConfig`), and
 * the API's own shared state goes to Redis too, so any number of serve processes behave as one:
 * Idempotency-Key answers, rate-limit counters and per-batch webhook subscriptions. /readyz then
 * also checks Redis.
 */
export async function startServe(
  config: Config,
  log: Logger,
  options: ServerOptions = {},
): Promise<ServeHandle> {
  // Refuse an unsafe binding before starting anything.
  const apiKeys = [...(options.apiKeys ?? config.api.apiKeys), ...config.api.adminKeys];
  assertSafeBinding(config.api.host, apiKeys);
  const app = await appForConfig(config, log);
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: false })
    : undefined;
  redis?.on('error', () => {}); // reported through /readyz and failed requests, not as crashes
  const triggers = startTriggers(app);
  let scheduler = await startScheduler(app).catch(async (error: unknown) => {
    await triggers.stop();
    redis?.disconnect();
    await app.close();
    throw error;
  });
  // Jobs whose enqueue was lost (a Redis blip, a crash between two steps) are found here.
  const stopWatchdog =
    config.watchdog.intervalMs > 0
      ? startWatchdog(
          {
            jobs: app.jobs,
            orchestrator: app.orchestrator,
            log,
            sweepScratch: () =>
              sweepScratch({
                store: app.store,
                jobs: app.jobs,
                bucket: config.buckets.output,
                root: scratchRoot(config.buckets.outputPrefix),
              }),
          },
          config.watchdog,
        )
      : async () => {};
  const webhooks = new BatchWebhooks({
    jobs: app.jobs,
    subscriptions: redis
      ? new RedisSubscriptionStore(redis, `${config.queuePrefix}:subscriptions:`)
      : new MemorySubscriptionStore(),
    sender: new WebhookSender({
      secret: config.notify.secret,
      log,
      retry: { attempts: 5, backoffMs: config.worker.backoffMs },
      untrusted: { allowPrivate: config.notify.allowPrivate },
      limiter: new DeliveryLimiter(config.notify.perPrincipal),
    }),
    log,
  });
  // Embedded: Idempotency-Key answers in the data folder, so a retry after a restart replays.
  const idempotency = redis
    ? new RedisIdempotencyStore(redis, `${config.queuePrefix}:idempotency:`)
    : SqliteIdempotencyStore.inDataDir(config.embedded.dataDir);
  let server: Awaited<ReturnType<typeof buildServer>> | undefined;
  const stop = async () => {
    await triggers.stop();
    await scheduler.close();
    await stopWatchdog();
    // Stops accepting requests and ends SSE streams first, then stops tasks and storage.
    await server?.close();
    await webhooks.close();
    if (idempotency instanceof SqliteIdempotencyStore) idempotency.close();
    redis?.disconnect();
    await app.close();
  };
  try {
    server = await buildServer(app, {
      readiness: app.readiness,
      consumers: triggers.consumers,
      schedules: () => scheduler.list(),
      subscribe: (jobIds, url, principal) => webhooks.subscribe(jobIds, url, principal),
      idempotency,
      ...(redis
        ? {
            owners: new RedisJobOwners(redis, `${config.queuePrefix}:`),
            rateLimit: { ...DEFAULT_RATE_LIMIT, redis },
            workers: () => new WorkerRegistry(redis, config.queuePrefix).list(),
          }
        : {}),
      ...options,
    });
    const url = await listen(server, config.api.host, config.api.port, apiKeys);
    const reloadSchedules = async () => {
      // Stopped first, so one process never fires a schedule twice; the run records persist.
      await scheduler.close();
      scheduler = await startScheduler(app);
    };
    return { app, url, reloadSchedules, close: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * `mediaflow serve`: runs until SIGTERM or SIGINT, then shuts down gracefully: no new requests,
 * open event streams ended, triggers stopped, running tasks stopped, storage closed. A second
 * signal, or a shutdown longer than MEDIAFLOW_SHUTDOWN_GRACE_S, exits at once.
 */
export async function runServe(config: Config, log: Logger): Promise<ExitCode> {
  const handle = await startServe(config, log);
  if (handle.app.embedded)
    process.stderr.write(`mediaflow: ${embeddedS3Line(handle.app, config)}\n`);
  const mode = config.redisUrl ? 'distributed' : 'embedded';
  process.stderr.write(
    `mediaflow: API and dashboard on ${handle.url}/ (${mode}; ` +
      `${config.api.apiKeys.length ? 'API keys required' : 'no API keys: loopback only'})\n`,
  );

  return new Promise<ExitCode>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`mediaflow: ${signal} again, exiting now\n`);
        process.exit(EXIT.UNAVAILABLE);
      }
      stopping = true;
      process.stderr.write(`mediaflow: ${signal}, shutting down\n`);
      const force = setTimeout(() => {
        process.stderr.write('mediaflow: shutdown took too long, exiting\n');
        process.exit(EXIT.UNAVAILABLE);
      }, config.worker.shutdownGraceMs);
      force.unref();
      handle.close().then(
        () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          process.off('SIGHUP', reload);
          resolve(EXIT.OK);
        },
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(EXIT.UNAVAILABLE);
        },
      );
    };
    // SIGHUP re-reads the presets file; an invalid one is logged and the old presets stay.
    const reload = () => {
      if (reloadPresets(handle.app).status !== 'reloaded') return;
      handle
        .reloadSchedules()
        .catch((error: unknown) => log.error({ err: error }, 'schedules could not be reloaded'));
    };
    process.on('SIGHUP', reload);
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
