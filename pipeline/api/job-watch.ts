import type { JobRecord } from '../jobs/job.js';
import type { JobStore } from '../jobs/store.js';

/**
 * How often a watcher re-reads a job while only task progress changes (ffmpeg reports many times a
 * second).
 */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * Watches jobs and calls `onChange` with each changed job's current record. Task progress is
 * coalesced to one read per interval; a job's state change is delivered at once. Reads run one
 * at a time, so an older read never overtakes a newer one and the last delivered record is the
 * latest. Returns the unsubscribe function.
 *
 * `filter` limits which jobs are watched (one job for its SSE stream; all for the jobs list).
 * `prime` names jobs to read once right after subscribing: a snapshot that goes through the same
 * ordered reads as the updates, so it can neither miss one nor arrive after a newer one.
 */
export function watchJobs(
  jobs: JobStore,
  options: { filter: (jobId: string) => boolean; prime?: string[]; intervalMs?: number },
  onChange: (job: JobRecord) => void,
  onError: (error: unknown) => void,
): () => void {
  const { filter, prime = [], intervalMs = PROGRESS_INTERVAL_MS } = options;
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const ids = [...dirty];
    dirty.clear();
    chain = chain
      .then(async () => {
        for (const id of ids) {
          if (stopped) return;
          const job = await jobs.get(id);
          if (job && !stopped) onChange(job);
        }
      })
      .catch(onError);
  };

  const stop = jobs.watch((event) => {
    if (stopped || !filter(event.jobId)) return;
    dirty.add(event.jobId);
    if (event.type === 'job') flush();
    else timer ??= setTimeout(flush, intervalMs);
  });
  for (const id of prime) dirty.add(id);
  if (dirty.size) flush();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    stop();
  };
}
