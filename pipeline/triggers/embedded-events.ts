import { toErrorRecord } from '../../functions/errors.js';
import type { EmbeddedS3 } from '../storage/embedded-s3.js';
import { parseS3Notification } from '../events/s3-notification.js';
import type { Orchestrator, SubmitOutcome } from '../jobs/orchestrator.js';
import type { Logger } from '../log.js';

/**
 * Turns the embedded store's S3-format notifications into jobs, like a bucket notification
 * target would. Keys arrive raw (s3rver does not URL-encode them).
 */
export function listenToEmbeddedEvents(s3: EmbeddedS3, orchestrator: Orchestrator, inputBucket: string, log: Logger, onSubmitted?: (key: string, outcome: SubmitOutcome) => void): () => void {
  return s3.onEvent((notification) => {
    let events;
    try {
      events = parseS3Notification(notification, 'raw');
    } catch (error) {
      log.warn({ err: toErrorRecord(error) }, 'ignored a malformed storage event');
      return;
    }
    for (const event of events) {
      if (event.type !== 'created' || event.bucket !== inputBucket) continue;
      orchestrator
        .submit({ bucket: event.bucket, key: event.key, ...(event.etag ? { etag: event.etag } : {}) })
        .then((outcome) => onSubmitted?.(event.key, outcome))
        .catch((error: unknown) => log.error({ key: event.key, err: toErrorRecord(error) }, 'could not submit a job for an upload'));
    }
  });
}
