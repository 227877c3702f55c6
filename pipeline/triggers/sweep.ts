import PQueue from 'p-queue';
import { toErrorRecord } from '../../functions/errors.js';
import type { TriggerEvent } from '../events/trigger-message.js';
import type { Orchestrator } from '../jobs/orchestrator.js';
import type { ObjectInfo, ObjectStore } from '../storage/port.js';
import { submitStorageEvents, type EventOutcome } from './submit-events.js';

export interface SweepDeps {
  store: ObjectStore;
  orchestrator: Orchestrator;
  inputBucket: string;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** Submissions at once (each is a HEAD, a manifest check and a job-store write). */
  concurrency?: number;
  /** Sees every judged object. */
  onOutcome?: (outcome: EventOutcome) => void;
}

/** What one pass covers: the whole input bucket by default; a schedule names a prefix, a preset. */
export interface SweepScope {
  prefix?: string;
  preset?: string;
}

export interface SweepReport {
  listed: number;
  /** Jobs, one per preset an object was routed to. */
  created: number;
  existing: number;
  /** Work found committed (manifest) by a process that did not know the job. */
  adopted: number;
  ignored: number;
  failed: number;
}

/**
 * One reconciliation pass, because bucket notifications can be lost (a webhook down, a listen
 * connection dropped): every object of the input bucket is submitted. Submission is idempotent
 * (the job id derives from the object version and preset), so a source that already has a job
 * is left alone, a source whose manifest was committed is adopted as done, and only sources
 * nobody has seen become new jobs.
 */
export async function sweepOnce(
  deps: SweepDeps,
  signal?: AbortSignal,
  scope: SweepScope = {},
): Promise<SweepReport> {
  const report: SweepReport = {
    listed: 0,
    created: 0,
    existing: 0,
    adopted: 0,
    ignored: 0,
    failed: 0,
  };
  const queue = new PQueue({ concurrency: deps.concurrency ?? 4 });
  const count = ({ outcome }: EventOutcome) =>
    void report[outcome.status === 'reprocessing' ? 'created' : outcome.status]++;
  for await (const object of deps.store.list(deps.inputBucket, scope.prefix ?? '')) {
    if (signal?.aborted) break;
    report.listed++;
    // Bounded memory on huge buckets: do not list far ahead of the submissions.
    if (queue.size > 100) await queue.onSizeLessThan(50);
    void queue.add(async () => {
      try {
        // Through the trigger port, like every other trigger: when input and output share a
        // bucket, mediaflow's own outputs are ignored there.
        for (const judged of await submitStorageEvents(deps.orchestrator, deps.inputBucket, [
          asEvent(object, scope.preset),
        ])) {
          deps.onOutcome?.(judged);
          count(judged);
        }
      } catch (error) {
        report.failed++;
        deps.log.warn(
          { key: object.key, err: toErrorRecord(error) },
          'sweep could not submit a source',
        );
      }
    });
  }
  await queue.onIdle();
  return report;
}

/** A listed object as the event that announced it; with a preset, as a command naming it. */
function asEvent(object: ObjectInfo, preset: string | undefined): TriggerEvent {
  const { bucket, key } = object;
  if (preset) return { type: 'command', bucket, key, preset };
  return {
    type: 'created',
    bucket,
    key,
    etag: object.etag,
    versionId: object.versionId,
    size: object.size,
    sequencer: undefined,
  };
}

/**
 * Sweeps now and then every `intervalMs`, never two passes at once. Returns a stop function that
 * waits for a pass in progress to end.
 */
export function startSweep(
  deps: SweepDeps,
  intervalMs: number,
  onReport?: (report: SweepReport) => void,
): () => Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const pass = () => {
    running = sweepOnce(deps, controller.signal)
      .then((report) => {
        if (report.created || report.failed)
          deps.log.info({ ...report }, 'sweep found sources without jobs');
        onReport?.(report);
      })
      .catch((error: unknown) =>
        deps.log.warn({ err: toErrorRecord(error) }, 'sweep failed; will try again'),
      )
      .finally(() => {
        if (!controller.signal.aborted) timer = setTimeout(pass, intervalMs);
      });
  };
  pass();
  return async () => {
    controller.abort();
    if (timer) clearTimeout(timer);
    await running;
  };
}
