import type { TriggerEvent } from '../events/trigger-message.js';
import type { Orchestrator, SubmitOutcome } from '../jobs/orchestrator.js';

export type EventOutcome = {
  event: TriggerEvent;
  outcome: SubmitOutcome | { status: 'ignored'; reason: 'not-a-creation' | 'not-the-input-bucket' };
};

/**
 * The trigger port: what every trigger (webhook, MinIO listen, embedded events, sweep, AMQP,
 * NATS, MQTT) hands the orchestrator. Uploads to the input bucket and commands become jobs
 * through the orchestrator's idempotent submit; removals, test events, other buckets and
 * mediaflow's own outputs are ignored. A thrown error means nothing was judged: the caller keeps
 * the event (503, no ack) so it comes again.
 */
export async function submitStorageEvents(
  orchestrator: Orchestrator,
  inputBucket: string,
  events: readonly TriggerEvent[],
): Promise<EventOutcome[]> {
  const outcomes: EventOutcome[] = [];
  for (const event of events) {
    if (event.type !== 'created' && event.type !== 'command')
      outcomes.push({ event, outcome: { status: 'ignored', reason: 'not-a-creation' } });
    else if (event.bucket !== inputBucket)
      outcomes.push({ event, outcome: { status: 'ignored', reason: 'not-the-input-bucket' } });
    else {
      const request =
        event.type === 'command'
          ? {
              bucket: event.bucket,
              key: event.key,
              ...(event.preset ? { preset: event.preset } : {}),
            }
          : {
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
