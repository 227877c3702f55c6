import type { ErrorRecord } from '../../functions/errors.js';
import type { JobSpec, OutputRecord, TaskResult } from '../plan/types.js';

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TaskStatus {
  kind: string;
  state: TaskState;
  /** Fraction in [0, 1]. */
  progress: number;
  attempts: number;
  error?: ErrorRecord;
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
 * The job's progress rolled up from its tasks. Tasks of later stages are unknown until planned,
 * so the roll-up is weighted by stage: it never moves backwards when a stage fans out.
 */
export function jobProgress(job: Pick<JobRecord, 'state' | 'tasks'>): number {
  if (job.state === 'succeeded') return 1;
  const tasks = Object.values(job.tasks);
  if (tasks.length === 0) return 0;
  const done = tasks.reduce((sum, t) => sum + (t.state === 'succeeded' ? 1 : t.progress), 0);
  // Leave room for stages not yet planned: a job is never shown as done before it is.
  return Math.min(0.99, done / tasks.length);
}

/** Announced to listeners (SSE, notifications) whenever a job or one of its tasks changes. */
export type JobEvent =
  | { type: 'job'; jobId: string; state: JobState; error?: ErrorRecord }
  | { type: 'task'; jobId: string; taskId: string; status: TaskStatus };

export type StoredResults = Record<string, TaskResult>;
