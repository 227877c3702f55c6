import type { Logger } from '../log.js';
import { backoffDelay } from '../runner/port.js';
import type { ConsumerStatus } from './consumer-status.js';
import { pause } from './deliver.js';

/** A running broker consumer. */
export interface TriggerConsumer {
  status: ConsumerStatus;
  /** Stops taking messages, lets those in hand finish (bounded), then disconnects. */
  stop(): Promise<void>;
}

/** What every broker consumer is given besides where to connect. */
export interface ConsumerOptions {
  /** Messages held unacknowledged, and so handled, at once by this process. */
  prefetch: number;
  backoff?: BackoffOptions;
}

/** A connected, consuming session, as `reconnectLoop` gets it from an adapter. */
export interface Session {
  /** Resolves when the connection is gone, with the error that ended it if any. */
  closed: Promise<Error | undefined>;
  close(): Promise<void> | void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A session that lasted this long counts as healthy: the backoff starts over. */
  stableAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  maxMs: 30_000,
  stableAfterMs: 30_000,
};

/** How long stop() waits for messages in hand before disconnecting; the rest are redelivered. */
const DRAIN_MS = 5000;

/**
 * Runs broker sessions one after another until stopped, with exponential backoff and jitter
 * between them. `open` connects and starts consuming (or throws); it starts each message's
 * handling through `handle`, which refuses new work once stopping (the broker redelivers what was
 * never acknowledged). Returns the consumer.
 */
export function reconnectLoop(
  status: ConsumerStatus,
  log: Logger,
  backoff: BackoffOptions = DEFAULT_BACKOFF,
  open: (signal: AbortSignal, handle: (work: () => Promise<unknown>) => void) => Promise<Session>,
): TriggerConsumer {
  const controller = new AbortController();
  let current: Session | undefined;
  const inFlight = new Set<Promise<unknown>>();
  let stopping = false;
  const handle = (work: () => Promise<unknown>) => {
    if (stopping) return;
    const running = work().finally(() => inFlight.delete(running));
    inFlight.add(running);
  };
  const run = async () => {
    let failures = 0;
    while (!controller.signal.aborted) {
      const started = Date.now();
      let error: unknown;
      try {
        const session = await open(controller.signal, handle);
        current = session;
        status.set('ready');
        log.info({ trigger: status.trigger, source: status.source }, 'consuming');
        const onAbort = () => void session.close();
        controller.signal.addEventListener('abort', onAbort);
        error = (await session.closed) ?? new Error('connection closed');
        controller.signal.removeEventListener('abort', onAbort);
      } catch (thrown) {
        error = thrown;
      }
      current = undefined;
      if (controller.signal.aborted) break;
      if (Date.now() - started >= backoff.stableAfterMs) failures = 0;
      failures++;
      const delayMs = Math.min(
        backoff.maxMs,
        backoffDelay({ attempts: 0, backoffMs: backoff.initialMs }, failures),
      );
      status.set('reconnecting', error);
      log.warn(
        {
          trigger: status.trigger,
          source: status.source,
          attempt: failures,
          delayMs,
          err: status.lastError,
        },
        'broker connection lost; reconnecting',
      );
      await pause(delayMs, controller.signal);
    }
    status.set('stopped');
  };
  const running = run();
  return {
    status,
    async stop() {
      stopping = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_MS))),
      ]);
      clearTimeout(timer);
      controller.abort();
      await current?.close();
      await running;
    },
  };
}
