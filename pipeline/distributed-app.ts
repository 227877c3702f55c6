import { MediaflowError } from '../functions/errors.js';
import { createApp, type App, type AppOverrides } from './app.js';
import { taskRetry, type Config } from './config/load.js';
import { SqliteJobStore } from './jobs/sqlite-store.js';
import { RedisJobStore } from './jobs/redis-store.js';
import type { JobStore } from './jobs/store.js';
import type { Logger } from './log.js';
import { JobNotifier } from './notify/job-notifier.js';
import { WebhookSender } from './notify/webhook.js';
import { BullmqRunner, type BullmqRunnerOptions } from './runner/bullmq.js';
import { InProcessRunner } from './runner/in-process.js';

/** An app whose jobs live in Redis and whose tasks run on BullMQ workers anywhere. */
export interface DistributedApp extends App {
  runner: BullmqRunner;
  jobs: RedisJobStore;
  /**
   * Named readiness checks (Redis for queues and for job state): each throws QUEUE_UNAVAILABLE when
   * down.
   */
  readiness: Record<string, () => Promise<void>>;
  notifier: JobNotifier | undefined;
  /** REDIS_URL, which this mode requires. */
  redisUrl: string;
}

export interface DistributedOptions extends Pick<AppOverrides, 'handlers' | 'workflows'> {
  /**
   * Run tasks and stages in this process (`mediaflow worker`); default false (`mediaflow serve`).
   */
  consume?: boolean;
  /** Lock and stall settings for a consumer; the defaults are explained in bullmq-consumer.ts. */
  lock?: NonNullable<BullmqRunnerOptions['consume']>['lock'];
}

/**
 * Wires the distributed mode: job state in Redis (RedisJobStore), stages on BullMQ, storage at
 * MEDIAFLOW_S3_ENDPOINT, and CloudEvents to MEDIAFLOW_NOTIFY_URLS. Both REDIS_URL and an external
 * S3 endpoint are required: workers on other machines cannot reach an embedded store.
 */
export async function createDistributedApp(
  config: Config,
  log: Logger,
  options: DistributedOptions = {},
): Promise<DistributedApp> {
  const redisUrl = requireDistributed(config);
  const onError = quietRepeats(
    (message) => log.warn({ err: message }, 'redis or queue error'),
    10_000,
  );
  const jobs = new RedisJobStore(redisUrl, `${config.queuePrefix}:`, onError, {
    retentionMs: config.jobRetentionMs,
  });
  const notifier = notifierFor(config, jobs, log);
  let runner: BullmqRunner | undefined;
  let app: App;
  try {
    app = await createApp(config, log, {
      ...(options.handlers ? { handlers: options.handlers } : {}),
      ...(options.workflows ? { workflows: options.workflows } : {}),
      jobs,
      ...(notifier ? { onJobEnded: (job) => notifier.jobEnded(job) } : {}),
      runner: (hooks) =>
        (runner = new BullmqRunner(notifier ? notifier.wrapHooks(hooks) : hooks, {
          redisUrl,
          queuePrefix: config.queuePrefix,
          retry: taskRetry(config),
          ...(options.consume
            ? {
                consume: {
                  concurrency: config.worker.concurrency,
                  ...(options.lock ? { lock: options.lock } : {}),
                },
              }
            : {}),
          onError,
        })),
    });
  } catch (error) {
    // Storage or ffmpeg failed the start: the Redis connections must not keep the process alive.
    await runner?.close();
    await jobs.close();
    throw error;
  }
  const started = runner!;
  try {
    await started.start();
    // A producer serves watchers (SSE, waits): subscribe now, so the first watch misses nothing.
    if (!options.consume) await jobs.whenWatching();
  } catch (error) {
    await app.close();
    throw new MediaflowError(
      'QUEUE_UNAVAILABLE',
      `Cannot reach Redis at REDIS_URL: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    ...app,
    runner: started,
    jobs,
    notifier,
    redisUrl,
    readiness: { redis: () => started.ping(), jobs: () => jobs.ping() },
    async close() {
      await started.close();
      await notifier?.flush(config.worker.shutdownGraceMs);
      await app.close();
    },
  };
}

/**
 * The app for a configuration, for `mediaflow serve`: distributed when REDIS_URL is set, else
 * embedded (createApp's defaults), with CloudEvents notifications wired in either mode.
 */
export async function appForConfig(
  config: Config,
  log: Logger,
  options: DistributedOptions = {},
): Promise<
  App & { readiness: Record<string, () => Promise<void>>; notifier: JobNotifier | undefined }
> {
  if (config.mode.runner === 'bullmq') return createDistributedApp(config, log, options);
  const jobs = SqliteJobStore.inDataDir(config.embedded.dataDir, {
    retentionMs: config.jobRetentionMs,
  });
  const notifier = notifierFor(config, jobs, log);
  const app = await createApp(config, log, {
    ...(options.handlers ? { handlers: options.handlers } : {}),
    ...(options.workflows ? { workflows: options.workflows } : {}),
    jobs,
    ...(notifier
      ? {
          onJobEnded: (job) => notifier.jobEnded(job),
          runner: (hooks) =>
            new InProcessRunner(notifier.wrapHooks(hooks), {
              concurrency: config.worker.concurrency,
              retry: taskRetry(config),
              onError: (error) => log.error({ err: error }, 'runner error'),
            }),
        }
      : {}),
  });
  return {
    ...app,
    readiness: {},
    notifier,
    async close() {
      await app.close();
      await notifier?.flush(config.worker.shutdownGraceMs);
    },
  };
}

/** A notifier when MEDIAFLOW_NOTIFY_URLS is set. */
export function notifierFor(config: Config, jobs: JobStore, log: Logger): JobNotifier | undefined {
  if (config.notify.urls.length === 0) return undefined;
  if (!config.notify.secret)
    log.warn(
      {},
      'MEDIAFLOW_NOTIFY_URLS is set without MEDIAFLOW_NOTIFY_SECRET: notifications go unsigned',
    );
  // Deliveries back off like tasks do (MEDIAFLOW_TASK_BACKOFF_MS): one knob for "how patient".
  return new JobNotifier({
    urls: config.notify.urls,
    jobs,
    log,
    sender: new WebhookSender({
      secret: config.notify.secret,
      log,
      retry: { attempts: 5, backoffMs: config.worker.backoffMs },
    }),
  });
}

/**
 * While Redis is away every connection reports every reconnection attempt; one line per distinct
 * message per `windowMs` says the same.
 */
function quietRepeats(log: (message: string) => void, windowMs: number): (error: unknown) => void {
  const last = new Map<string, number>();
  return (error) => {
    const message = error instanceof Error ? error.message : String(error);
    const now = Date.now();
    if ((last.get(message) ?? 0) + windowMs > now) return;
    if (last.size > 100) last.clear();
    last.set(message, now);
    log(message);
  };
}

function requireDistributed(config: Config): string {
  if (!config.redisUrl)
    throw new MediaflowError(
      'CONFIG_INVALID',
      'REDIS_URL: required in distributed mode (mediaflow worker)',
    );
  if (!config.s3.endpoint)
    throw new MediaflowError(
      'CONFIG_INVALID',
      'MEDIAFLOW_S3_ENDPOINT: required in distributed mode, since workers on other machines ' +
        'must reach the same storage',
    );
  return config.redisUrl;
}
