import type { ObjectStore } from '../storage/port.js';
import { isFinal } from './job.js';
import type { JobStore } from './store.js';

export interface ScratchSweepDeps {
  store: Pick<ObjectStore, 'list' | 'deletePrefix'>;
  jobs: Pick<JobStore, 'get'>;
  bucket: string;
  /**
   * `<output prefix>.mediaflow-scratch/`: every job's intermediates are under
   * `<root><job id>/`.
   */
  root: string;
}

/**
 * Removes the storage scratch of jobs that ended (or that no job store knows any more): a job
 * removes its own scratch when it ends, but a clean-up that failed during an outage, or a process
 * that died at that moment, leaves it behind. Lists only the scratch area, which holds the
 * intermediates of running jobs and leftovers; returns the job ids it cleaned.
 */
export async function sweepScratch(deps: ScratchSweepDeps): Promise<string[]> {
  const seen = new Set<string>();
  for await (const object of deps.store.list(deps.bucket, deps.root)) {
    const jobId = object.key.slice(deps.root.length).split('/')[0];
    if (jobId) seen.add(jobId);
  }
  const cleaned: string[] = [];
  for (const jobId of seen) {
    const job = await deps.jobs.get(jobId);
    if (job && !isFinal(job.state)) continue;
    await deps.store.deletePrefix(deps.bucket, `${deps.root}${jobId}/`);
    cleaned.push(jobId);
  }
  return cleaned;
}
