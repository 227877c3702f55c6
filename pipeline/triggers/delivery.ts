import type { ErrorCode, ErrorRecord } from '../../functions/errors.js';
import type { EventOutcome } from './submit-events.js';

/** What to do with one broker message. */
export type Delivery =
  /** Every event in it has a job record, or was judged ignorable. */
  | { verdict: 'ack'; outcomes: EventOutcome[] }
  /** Redelivering cannot help (malformed, an unknown preset): dead-letter it with the reason. */
  | { verdict: 'dead-letter'; code: ErrorCode; reason: string }
  /** Something mediaflow depends on failed (storage, Redis): hand it back to be redelivered. */
  | { verdict: 'retry'; error: ErrorRecord };
