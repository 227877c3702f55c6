import type { StorageEvent } from '../events/s3-notification.js';
import type { Orchestrator, SubmitOutcome } from '../jobs/orchestrator.js';

export type EventOutcome = {
  event: StorageEvent;
  outcome: SubmitOutcome | { status: 'ignored'; reason: 'not-a-creation' | 'not-the-input-bucket' };
};

/**
 * What every trigger does with parsed storage events: uploads to the input bucket become jobs;
 * removals, test events, other buckets and mediaflow's own outputs are ignored.
 */
export async function submitStorageEvents(
  orchestrator: Orchestrator,
  inputBucket: string,
  events: StorageEvent[],
): Promise<EventOutcome[]> {
  const outcomes: EventOutcome[] = [];
  for (const event of events) {
    if (event.type !== 'created')
      outcomes.push({ event, outcome: { status: 'ignored', reason: 'not-a-creation' } });
    else if (event.bucket !== inputBucket)
      outcomes.push({ event, outcome: { status: 'ignored', reason: 'not-the-input-bucket' } });
    else {
      const request = {
        bucket: event.bucket,
        key: event.key,
        ...(event.etag ? { etag: event.etag } : {}),
        ...(event.versionId ? { versionId: event.versionId } : {}),
      };
      // One outcome per job: routes can send one upload to several presets.
      for (const outcome of await orchestrator.submitAll(request))
        outcomes.push({ event, outcome });
    }
  }
  return outcomes;
}
