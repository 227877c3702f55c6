import { setTimeout as sleep } from 'node:timers/promises';
import { toErrorRecord, type ErrorCode } from '../../functions/errors.js';
import type { KeyEncoding } from '../events/s3-notification.js';
import { parseTriggerBytes, type TriggerEvent } from '../events/trigger-message.js';
import type { Orchestrator } from '../jobs/orchestrator.js';
import type { Logger } from '../log.js';
import type { ConsumerStatus } from './consumer-status.js';
import type { Delivery } from './delivery.js';
import { submitStorageEvents, type EventOutcome } from './submit-events.js';

export type { Delivery } from './delivery.js';

export interface DeliveryDeps {
  orchestrator: Orchestrator;
  inputBucket: string;
  log: Logger;
  /** Sees every judged event (serve's metrics, tests). */
  onOutcome?: (outcome: EventOutcome) => void;
}

/**
 * Judges one message through the trigger port. MinIO's broker targets URL-encode keys in their
 * records as its webhook does, so `url` is the default encoding.
 */
export async function judgeMessage(
  deps: DeliveryDeps,
  body: Uint8Array | string,
  encoding: KeyEncoding = 'url',
): Promise<Delivery> {
  let events: TriggerEvent[];
  try {
    events = parseTriggerBytes(body, encoding);
  } catch (error) {
    const record = toErrorRecord(error);
    return { verdict: 'dead-letter', code: record.code, reason: record.message };
  }
  try {
    return {
      verdict: 'ack',
      outcomes: await submitStorageEvents(deps.orchestrator, deps.inputBucket, events),
    };
  } catch (error) {
    const record = toErrorRecord(error);
    return record.retryable
      ? { verdict: 'retry', error: record }
      : { verdict: 'dead-letter', code: record.code, reason: record.message };
  }
}

/** How a broker settles a message; each adapter maps these to its protocol. */
export interface Settle {
  ack(): Promise<void> | void;
  /** Publish to the dead-letter destination with the reason, then remove from the source. */
  deadLetter(code: ErrorCode, reason: string): Promise<void>;
  /** Hand it back for redelivery after `delayMs` (the adapter may wait, or ask the broker to). */
  retry(delayMs: number): Promise<void> | void;
}

/**
 * The loop body every broker consumer shares: judge, count, log, settle. Acknowledging only
 * after the judgement gives at-least-once delivery; the orchestrator's idempotent submit turns
 * the duplicates that allows into one job.
 */
export async function consumeMessage(
  deps: DeliveryDeps,
  status: ConsumerStatus,
  body: Uint8Array | string,
  settle: Settle,
): Promise<Delivery> {
  status.counts.received++;
  const delivery = await judgeMessage(deps, body);
  status.record(delivery);
  const log = deps.log;
  if (delivery.verdict === 'ack') {
    await settle.ack();
    for (const outcome of delivery.outcomes) deps.onOutcome?.(outcome);
  } else if (delivery.verdict === 'dead-letter') {
    log.warn(
      { trigger: status.trigger, code: delivery.code, reason: delivery.reason },
      'message dead-lettered',
    );
    await settle.deadLetter(delivery.code, delivery.reason);
  } else {
    const delayMs = status.retryDelay();
    log.warn(
      { trigger: status.trigger, code: delivery.error.code, delayMs },
      'message not processed (a dependency failed); it will be redelivered',
    );
    await settle.retry(delayMs);
  }
  return delivery;
}

/** Waits, unless the consumer is stopping. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => {});
}
