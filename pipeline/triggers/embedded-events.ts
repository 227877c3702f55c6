import { toErrorRecord } from '../../functions/errors.js';
import type { EmbeddedS3 } from '../storage/embedded-s3.js';
import { parseS3Notification, type StorageEvent } from '../events/s3-notification.js';
import type { Orchestrator } from '../jobs/orchestrator.js';
import type { Logger } from '../log.js';
import { submitStorageEvents, type EventOutcome } from './submit-events.js';

/**
 * Turns the embedded store's S3-format notifications into jobs, like a bucket notification
 * target would. Keys arrive raw (s3rver does not URL-encode them).
 */
export function listenToEmbeddedEvents(
  s3: EmbeddedS3,
  orchestrator: Orchestrator,
  inputBucket: string,
  log: Logger,
  onOutcome?: (outcome: EventOutcome) => void,
): () => void {
  return s3.onEvent((notification) => {
    let events: StorageEvent[];
    try {
      events = parseS3Notification(notification, 'raw');
    } catch (error) {
      log.warn({ err: toErrorRecord(error) }, 'ignored a malformed storage event');
      return;
    }
    submitStorageEvents(orchestrator, inputBucket, events)
      .then((outcomes) => {
        for (const o of outcomes) onOutcome?.(o);
      })
      .catch((error: unknown) =>
        log.error({ err: toErrorRecord(error) }, 'could not submit jobs for an upload'),
      );
  });
}
