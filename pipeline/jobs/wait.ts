import { isFinal, type JobRecord } from './job.js';
import type { JobStore } from './store.js';

/**
 * Resolves with each job's final record once every one has ended. `onChange` sees every update on
 * the way (for progress bars). Listens before reading, so an update between the two is never lost.
 */
export async function waitForJobs(
  jobs: JobStore,
  ids: string[],
  onChange?: (job: JobRecord) => void,
  signal?: AbortSignal,
): Promise<JobRecord[]> {
  const pending = new Set(ids);
  const final = new Map<string, JobRecord>();
  return new Promise<JobRecord[]>((resolve, reject) => {
    const check = async (id: string) => {
      const job = await jobs.get(id);
      if (!job) return;
      onChange?.(job);
      if (isFinal(job.state) && pending.delete(id)) {
        final.set(id, job);
        if (pending.size === 0) finish();
      }
    };
    const stop = jobs.watch((event) => {
      if (pending.has(event.jobId)) check(event.jobId).catch(reject);
    });
    const onAbort = () => {
      stop();
      reject(signal?.reason ?? new Error('aborted'));
    };
    const finish = () => {
      stop();
      signal?.removeEventListener('abort', onAbort);
      resolve(ids.map((id) => final.get(id)!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (ids.length === 0) return finish();
    for (const id of ids) check(id).catch(reject);
  });
}
