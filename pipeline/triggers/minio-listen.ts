import { Client } from 'minio';
import { MediaflowError, toErrorRecord } from '../../functions/errors.js';
import type { Config } from '../config/load.js';
import { parseS3Notification, type StorageEvent } from '../events/s3-notification.js';
import type { Orchestrator } from '../jobs/orchestrator.js';
import type { Logger } from '../log.js';
import { backoffDelay } from '../runner/port.js';
import { submitStorageEvents, type EventOutcome } from './submit-events.js';

/** What `listenBucketNotification` returns, narrowed to what we use (a fake in tests). */
export interface NotificationSource {
  on(event: 'notification', listener: (record: unknown) => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  stop(): void;
}

export interface ReconnectOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** A connection that stays up this long without an error counts as healthy again. */
  stableAfterMs: number;
  /** Timers, injectable for tests. */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  now?: () => number;
  random?: () => number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
};

/**
 * Keeps a listen connection open: the minio client's poller emits one `error` and gives up when
 * the server goes away, so on each error the poller is dropped and a new one made after an
 * exponential backoff with jitter (capped at `maxDelayMs`). The backoff starts over once a
 * connection delivers a record or stays up for `stableAfterMs`.
 */
export function listenWithReconnect(
  listen: () => NotificationSource,
  handlers: {
    onRecord(record: unknown): void;
    onError(error: unknown, attempt: number, delayMs: number): void;
  },
  options: ReconnectOptions = DEFAULT_RECONNECT,
): { stop(): void } {
  const setTimer = options.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimeout ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  const now = options.now ?? Date.now;
  let failures = 0;
  let stopped = false;
  let current: NotificationSource | undefined;
  let retry: unknown;

  const connect = () => {
    retry = undefined;
    if (stopped) return;
    const source = listen();
    const openedAt = now();
    let failed = false;
    current = source;
    source.on('notification', (record) => {
      if (current !== source) return;
      failures = 0;
      handlers.onRecord(record);
    });
    source.on('error', (error) => {
      if (failed || current !== source || stopped) return;
      failed = true;
      source.stop();
      current = undefined;
      if (now() - openedAt >= options.stableAfterMs) failures = 0;
      failures++;
      const delay = Math.min(
        options.maxDelayMs,
        backoffDelay({ attempts: 0, backoffMs: options.initialDelayMs }, failures, options.random),
      );
      handlers.onError(error, failures, delay);
      retry = setTimer(connect, delay);
    });
  };
  connect();
  return {
    stop() {
      stopped = true;
      if (retry !== undefined) clearTimer(retry);
      current?.stop();
      current = undefined;
    },
  };
}

/**
 * Triggers jobs from MinIO's listen API (`ListenBucketNotification`, a MinIO extension that AWS
 * and s3rver lack): no notification target needs configuring on the server. Keys arrive raw.
 * Returns a function that stops listening.
 */
export function startMinioListener(
  config: Config,
  orchestrator: Orchestrator,
  log: Logger,
  onOutcome?: (outcome: EventOutcome) => void,
  reconnect: ReconnectOptions = DEFAULT_RECONNECT,
): () => void {
  if (!config.s3.endpoint)
    throw new MediaflowError('CONFIG_INVALID', 'The MinIO listener needs MEDIAFLOW_S3_ENDPOINT');
  const url = new URL(config.s3.endpoint);
  const useSSL = url.protocol === 'https:';
  const client = new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: config.s3.accessKeyId,
    secretKey: config.s3.secretAccessKey,
    region: config.s3.region,
    pathStyle: config.s3.forcePathStyle,
  });
  const bucket = config.buckets.input;
  const listener = listenWithReconnect(
    () => {
      const poller = client.listenBucketNotification(bucket, '', '', ['s3:ObjectCreated:*']);
      return poller as unknown as NotificationSource;
    },
    {
      onRecord(record) {
        let events: StorageEvent[];
        try {
          events = parseS3Notification({ Records: [record] }, 'raw');
        } catch (error) {
          log.warn({ err: toErrorRecord(error) }, 'ignored a malformed MinIO notification');
          return;
        }
        submitStorageEvents(orchestrator, bucket, events)
          .then((outcomes) => {
            for (const o of outcomes) onOutcome?.(o);
          })
          .catch((error: unknown) =>
            log.error({ err: toErrorRecord(error) }, 'could not submit jobs for an upload'),
          );
      },
      onError(error, attempt, delayMs) {
        log.warn(
          { bucket, attempt, delayMs, err: error instanceof Error ? error.message : String(error) },
          'MinIO listen connection lost; reconnecting',
        );
      },
    },
    reconnect,
  );
  log.info({ bucket, endpoint: config.s3.endpoint }, 'listening to MinIO bucket notifications');
  return () => listener.stop();
}
