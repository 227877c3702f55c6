import { setTimeout as sleep } from 'node:timers/promises';
import { toErrorRecord } from '../../functions/errors.js';
import { backoffDelay } from '../runner/port.js';

/** Outages worth waiting out at start; anything else (bad config, no ffmpeg) fails at once. */
const WAITABLE = new Set(['STORAGE_UNAVAILABLE', 'QUEUE_UNAVAILABLE']);

/**
 * Starts something that needs storage and Redis, waiting (backoff with jitter, at most `maxDelayMs`
 * between tries) while either is unreachable instead of exiting: a worker started during an outage
 * would otherwise exit, and its supervisor restart it, in a crash loop. Stops waiting when
 * `signal` aborts (SIGTERM during start).
 */
export async function startPatiently<T>(
  start: () => Promise<T>,
  log: { warn(o: object, m?: string): void },
  options: { signal?: AbortSignal; firstDelayMs?: number; maxDelayMs?: number } = {},
): Promise<T> {
  const { signal, firstDelayMs = 500, maxDelayMs = 10_000 } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const record = toErrorRecord(error);
      if (!WAITABLE.has(record.code) || signal?.aborted) throw error;
      const delay = Math.min(
        maxDelayMs,
        backoffDelay({ attempts: 0, backoffMs: firstDelayMs }, attempt),
      );
      log.warn(
        { code: record.code, message: record.message, attempt, retryInMs: delay },
        'a dependency is unreachable at start; waiting for it',
      );
      await sleep(delay, undefined, signal ? { signal } : {}).catch(() => {});
      if (signal?.aborted) throw error;
    }
  }
}
