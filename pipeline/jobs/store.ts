import type { JobEvent, JobRecord, JobState, TaskStatus } from './job.js';
import type { TaskResult } from '../plan/types.js';

export interface JobListQuery {
  state?: JobState;
  /**
   * Only jobs whose source key or preset name contains this, ignoring the case of ASCII letters.
   * A store may answer a search with fewer than `limit` jobs (even none) and a cursor: it looks
   * at a bounded number of jobs per call (SEARCH_BUDGET), so keep paging while there is a cursor.
   */
  q?: string;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  limit: number;
}

export interface JobPage {
  jobs: JobRecord[];
  nextCursor: string | null;
}

export type StateGuard = 'open' | { openAtStage: number };

/**
 * The job-state port. Writes are per field (a task's status, a task's result, the job's state)
 * so that many workers can update one job at once without read-modify-write races. Finished jobs
 * expire after the store's retention (see retention.ts), and so do the index entries naming them.
 */
export interface JobStore {
  /** Creates the job unless one with its id exists; true when this call created it. Atomic. */
  create(job: JobRecord): Promise<boolean>;
  get(id: string): Promise<JobRecord | null>;
  /**
   * Patches the job. With `guard: 'open'` the patch applies only while the job is open (not in a
   * final state and no error recorded), atomically: this is how the orchestrator's concurrent paths
   * (a stage completing, a cancel, a failure) agree on who ends a job. `{ openAtStage: n }` also
   * requires the job to be at stage n: of several processes starting the next stage (a replayed
   * stage, a redelivered event, the watchdog), one moves it on and no stale one moves it back.
   * Returns whether it applied.
   */
  setState(
    id: string,
    patch: Partial<Pick<JobRecord, 'state' | 'stage' | 'outputs' | 'error'>>,
    guard?: StateGuard,
  ): Promise<boolean>;
  /** Writes a task's status, keeping its stored `order` and first `startedAt` (mergeTaskStatus). */
  setTask(id: string, taskId: string, status: TaskStatus): Promise<void>;
  /** Task progress only; cheaper and allowed to be lossy. */
  setTaskProgress(id: string, taskId: string, progress: number): Promise<void>;
  putResults(id: string, results: Record<string, TaskResult>): Promise<void>;
  getResults(id: string): Promise<Record<string, TaskResult>>;
  /**
   * Records output keys a task is about to write (before it writes them), so compensation can
   * remove exactly what the job wrote: another job's outputs may sit under its prefix, since
   * object keys may contain '/'.
   */
  recordWrites(id: string, keys: string[]): Promise<void>;
  /** Every key recorded by `recordWrites`. */
  getWrites(id: string): Promise<string[]>;
  /** Forget the results and task statuses of the named tasks (for retrying failed tasks). */
  resetTasks(id: string, taskIds: string[]): Promise<void>;
  list(query: JobListQuery): Promise<JobPage>;
  /**
   * Jobs per state, for metrics. Constant time per state (kept counts or set sizes), never a scan:
   * `/metrics` is scraped every few seconds whatever the number of jobs kept.
   */
  counts(): Promise<Record<JobState, number>>;
  /**
   * Ids of open jobs (not in a final state) whose last activity was before `before` (epoch ms),
   * oldest first, at most `limit`. Activity is creation, any state or task change, task progress
   * and `touch`. This is the watchdog's index: it must not scan every job.
   */
  idle(before: number, limit: number): Promise<string[]>;
  /** Counts as activity for `idle` without changing the job (a watchdog that checked it). */
  touch(id: string): Promise<void>;
  /** Listens to changes of every job; returns an unsubscribe function. */
  watch(listener: (event: JobEvent) => void): () => void;
  close(): Promise<void>;
}
