import type { ErrorRecord } from '../../functions/errors.js';
import type { TaskResult, TaskSpec } from '../plan/types.js';
import type { TaskStatus } from '../jobs/job.js';

/**
 * One stage of a job: tasks that run in parallel and are joined before the next stage is planned.
 */
export interface StageRequest {
  jobId: string;
  /** 0 for the first stage; part of every queue id, so a replayed stage is deduplicated. */
  stage: number;
  tasks: TaskSpec[];
}

/**
 * What a runner calls back into. The runner owns scheduling, retries and fan-in; the hooks own
 * the meaning (execute a task, record its state, plan what comes next).
 */
export interface RunnerHooks {
  execute(
    jobId: string,
    task: TaskSpec,
    signal: AbortSignal,
    onProgress: (fraction: number) => void,
  ): Promise<TaskResult>;
  taskChanged(jobId: string, taskId: string, status: TaskStatus): Promise<void>;
  taskProgress(jobId: string, taskId: string, fraction: number): Promise<void>;
  /** Every task of the stage succeeded; called once per stage. */
  stageDone(jobId: string, stage: number, results: Record<string, TaskResult>): Promise<void>;
  /** A task failed for good (permanent error, or retries spent); called once per stage. */
  stageFailed(jobId: string, stage: number, taskId: string, error: ErrorRecord): Promise<void>;
}

/**
 * Where a stage stands in a runner: `live` (queued, running, or joining its tasks), `missing`
 * (never enqueued, lost, or already reported), `dead` (the runner gave up on it without
 * reporting, e.g. its join failed on every attempt).
 */
export type StageStatus = 'live' | 'missing' | 'dead';

/** The scheduling port: in-process (p-queue) or distributed (BullMQ), same plans, same hooks. */
export interface Runner {
  /**
   * Enqueues a stage and returns; completion arrives through the hooks. Idempotent: a stage
   * already queued or running under the same job and stage number is left alone, which is what
   * lets the orchestrator re-drive a stage whenever it is unsure it was enqueued.
   */
  runStage(request: StageRequest): Promise<void>;
  /** For recovery: whether anything of the stage is still queued or running here. */
  stageStatus(jobId: string, stage: number): Promise<StageStatus>;
  /** Stops the job's running tasks (killing their media processes) and drops its queued ones. */
  cancel(jobId: string): Promise<void>;
  /** The tasks running in this process now, for the Workers page (none for a producer). */
  runningTasks(): RunningTask[];
  close(): Promise<void>;
}

/** A task running in this process: which job, which task, since when (ISO time). */
export interface RunningTask {
  jobId: string;
  taskId: string;
  startedAt: string;
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  /**
   * How long a task keeps retrying outage errors (`OUTAGE_CODES`) without spending attempts,
   * counted from the first; past it they spend attempts like any retryable error. 0: never.
   */
  outageBudgetMs?: number;
}

/** Exponential backoff with full jitter: spreads retries of many tasks that failed together. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = policy.backoffMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Codes of an outage (storage or Redis away) rather than of the task: retried within an outage
 * budget without spending the task's attempts, so a minute-long outage does not fail good jobs.
 */
export const OUTAGE_CODES: ReadonlySet<string> = new Set([
  'STORAGE_UNAVAILABLE',
  'QUEUE_UNAVAILABLE',
]);

/** The wait before the next try during an outage: backoff with jitter, at most 10 s. */
export function outageDelay(policy: RetryPolicy, tries: number): number {
  return Math.min(10_000, backoffDelay(policy, tries));
}
