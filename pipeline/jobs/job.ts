import type { ErrorRecord } from '../../functions/errors.js';
import type { JobSpec, OutputRecord, TaskResult } from '../plan/types.js';

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TaskStatus {
  kind: string;
  /** The stage the task was planned in (1 for the first). */
  stage: number;
  state: TaskState;
  /** Fraction in [0, 1]. */
  progress: number;
  attempts: number;
  error?: ErrorRecord;
  /** Position in its stage's plan, for showing tasks in plan order. Kept by the store. */
  order?: number;
  /** When the task first started running (ISO). Kept by the store once set: first write wins. */
  startedAt?: string;
  /** When its last attempt ended (ISO); absent while it is queued or running. */
  endedAt?: string;
}

/**
 * A status write that keeps the stored task's plan facts: its `order` and its first `startedAt`.
 * Runners write whole statuses per attempt and need not know either. Both stores apply this rule
 * (the Redis store in SET_TASK), and the conformance suite checks it.
 */
export function mergeTaskStatus(stored: TaskStatus | undefined, next: TaskStatus): TaskStatus {
  if (!stored) return next;
  return {
    ...next,
    ...(stored.order !== undefined ? { order: stored.order } : {}),
    ...(stored.startedAt !== undefined ? { startedAt: stored.startedAt } : {}),
  };
}

/** A task that has ended: only a retry of its job (which resets it first) runs it again. */
export function isTaskEnded(state: TaskState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

/**
 * Whether a task status write may apply. A write that says the task is queued or running is
 * stale once the task has ended (a replayed or killed attempt reporting late) or once its job has
 * ended or is being ended (final state, or an error recorded): a retry or redo resets the tasks
 * and reopens the job before any task runs again, so the write that reopens a task never meets
 * either. Ending writes always apply: a task's real end may arrive after its job's. Every store
 * applies this rule (the Redis store in SET_TASK), and the conformance suite checks it.
 */
export function taskWriteApplies(
  job: { state: JobState; error?: unknown },
  stored: TaskStatus | undefined,
  next: TaskStatus,
): boolean {
  if (isTaskEnded(next.state)) return true;
  if (isFinal(job.state) || job.error !== undefined) return false;
  return !stored || !isTaskEnded(stored.state);
}

/** A job as stored and shown: its spec, its live state, and (when done) its outputs or error. */
export interface JobRecord {
  spec: JobSpec;
  state: JobState;
  createdAt: string;
  updatedAt: string;
  /** How many stages have been planned so far. */
  stage: number;
  tasks: Record<string, TaskStatus>;
  outputs: OutputRecord[];
  error?: ErrorRecord;
}

export function isFinal(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

/**
 * The job's progress rolled up from its tasks, weighted by stage. Later stages are unknown until
 * planned (a stage fans out over what the one before found), so each workflow states the expected
 * weight of its stages; finished stages count in full and the current one by its tasks' progress.
 * It never moves backwards when a stage fans out, and never shows 100% before the job succeeded.
 */
export function jobProgress(job: Pick<JobRecord, 'spec' | 'state' | 'stage' | 'tasks'>): number {
  const stageWeights = job.spec.stageWeights ?? [];
  if (job.state === 'succeeded') return 1;
  if (job.stage === 0) return 0;
  const weights =
    stageWeights.length >= job.stage
      ? stageWeights
      : [...stageWeights, ...new Array<number>(job.stage - stageWeights.length).fill(0)];
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const current = Object.values(job.tasks).filter((t) => t.stage === job.stage);
  const fraction = current.length
    ? current.reduce((sum, t) => sum + (t.state === 'succeeded' ? 1 : t.progress), 0) /
      current.length
    : 0;
  const before = weights.slice(0, job.stage - 1).reduce((a, b) => a + b, 0);
  return Math.min(0.99, (before + weights[job.stage - 1]! * fraction) / total);
}

/**
 * A task's state as it may be shown. A task still queued or running in a job that failed or was
 * cancelled was stopped with it (or its worker died and never said so), so it shows cancelled. In
 * a job that succeeded every task's result was recorded, so an open task there succeeded and only
 * its last status write was lost (a worker killed between the two). A task's view never
 * contradicts its job's end, whatever write arrives late.
 */
export function settledTaskState(jobState: JobState, taskState: TaskState): TaskState {
  if (taskState !== 'queued' && taskState !== 'running') return taskState;
  if (jobState === 'succeeded') return 'succeeded';
  return jobState === 'failed' || jobState === 'cancelled' ? 'cancelled' : taskState;
}

/** Announced to listeners (SSE, notifications) whenever a job or one of its tasks changes. */
export type JobEvent =
  | { type: 'job'; jobId: string; state: JobState; error?: ErrorRecord }
  | { type: 'task'; jobId: string; taskId: string; status: TaskStatus };

export type StoredResults = Record<string, TaskResult>;
