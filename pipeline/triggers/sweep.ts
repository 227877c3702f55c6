import PQueue from 'p-queue';
import { toErrorRecord } from '../../functions/errors.js';
import type { Orchestrator, SubmitOutcome } from '../jobs/orchestrator.js';
import type { ObjectStore } from '../storage/port.js';

export interface SweepDeps {
  store: ObjectStore;
  orchestrator: Orchestrator;
  inputBucket: string;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** Submissions at once (each is a HEAD, a manifest check and a job-store write). */
  concurrency?: number;
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
export async function sweepOnce(deps: SweepDeps, signal?: AbortSignal): Promise<SweepReport> {
  const report: SweepReport = {
    listed: 0,
    created: 0,
    existing: 0,
    adopted: 0,
    ignored: 0,
    failed: 0,
  };
  const queue = new PQueue({ concurrency: deps.concurrency ?? 4 });
  const count = (outcome: SubmitOutcome) =>
    void report[outcome.status === 'reprocessing' ? 'created' : outcome.status]++;
  for await (const object of deps.store.list(deps.inputBucket, '')) {
    if (signal?.aborted) break;
    report.listed++;
    // When input and output share a bucket, mediaflow's own outputs are not sources.
    if (deps.orchestrator.isOutputLocation(object.bucket, object.key)) {
      report.ignored++;
      continue;
    }
    // Bounded memory on huge buckets: do not list far ahead of the submissions.
    if (queue.size > 100) await queue.onSizeLessThan(50);
    void queue.add(async () => {
      try {
        const outcomes = await deps.orchestrator.submitAll({
          bucket: object.bucket,
          key: object.key,
          etag: object.etag,
        });
        outcomes.forEach(count);
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
