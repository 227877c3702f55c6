import { backoffDelay } from '../runner/port.js';
import type { Delivery } from './delivery.js';

export type ConsumerState = 'connecting' | 'ready' | 'reconnecting' | 'stopped';

export interface ConsumerCounts {
  /** Messages taken from the broker, redeliveries included. */
  received: number;
  /** Jobs made (one message may route to several presets), reprocessing included. */
  created: number;
  existing: number;
  /** Work found already committed by a process that did not know the job. */
  adopted: number;
  ignored: number;
  /** Malformed or refused messages sent to the dead-letter destination. */
  deadLettered: number;
  /** Deliveries handed back after a transient failure (storage or Redis away). */
  retried: number;
}

export interface ConsumerSnapshot {
  trigger: string;
  /** Where it consumes from, without credentials. */
  source: string;
  state: ConsumerState;
  counts: ConsumerCounts;
  lastError: string | undefined;
}

const MAX_RETRY_DELAY_MS = 30_000;

/**
 * One consumer's state and counts, for /readyz and /metrics, and the pacing of its retries: a
 * delivery that failed transiently is handed back after a delay that grows with consecutive
 * failures, so an outage does not turn into a redelivery storm.
 */
export class ConsumerStatus {
  state: ConsumerState = 'connecting';
  lastError: string | undefined;
  readonly counts: ConsumerCounts = {
    received: 0,
    created: 0,
    existing: 0,
    adopted: 0,
    ignored: 0,
    deadLettered: 0,
    retried: 0,
  };
  private failures = 0;

  constructor(
    readonly trigger: string,
    readonly source: string,
    private readonly retryBaseMs = 500,
  ) {}

  set(state: ConsumerState, error?: unknown): void {
    this.state = state;
    if (error !== undefined)
      this.lastError = error instanceof Error ? error.message : String(error);
  }

  record(delivery: Delivery): void {
    if (delivery.verdict === 'retry') {
      this.counts.retried++;
      this.failures++;
      this.lastError = delivery.error.message;
      return;
    }
    this.failures = 0;
    if (delivery.verdict === 'dead-letter') {
      this.counts.deadLettered++;
      return;
    }
    for (const { outcome } of delivery.outcomes)
      this.counts[outcome.status === 'reprocessing' ? 'created' : outcome.status]++;
  }

  /** How long to wait before handing back a delivery that failed transiently. */
  retryDelay(): number {
    return Math.min(
      MAX_RETRY_DELAY_MS,
      backoffDelay({ attempts: 0, backoffMs: this.retryBaseMs }, this.failures),
    );
  }

  snapshot(): ConsumerSnapshot {
    return {
      trigger: this.trigger,
      source: this.source,
      state: this.state,
      counts: { ...this.counts },
      lastError: this.lastError,
    };
  }
}

/** A broker URL fit for logs and probes: scheme, host and port, never credentials. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
