import { isErrorCode, ERROR_CODES, type ErrorRecord } from '../../functions/errors.js';
import type { TaskSpec, TaskResult } from '../plan/types.js';

/**
 * Names shared by the BullMQ producer and consumer, and by anything that watches the queues from
 * outside (KEDA scales on `bull:${prefix}-tasks:wait`). Kept free of `bullmq` imports so that
 * tests and deployment checks can use them.
 */
export function queueNames(prefix: string): { tasks: string; stages: string } {
  return { tasks: `${prefix}-tasks`, stages: `${prefix}-stages` };
}

/** BullMQ's own key prefix; left at its default so the wait list is `bull:<queue>:wait`. */
export const BULL_PREFIX = 'bull';

/** Deterministic ids: adding the same stage twice finds the existing jobs instead of new ones. */
export const stageJobId = (jobId: string, stage: number): string => `${jobId}.${stage}`;
export const taskJobId = (jobId: string, stage: number, taskId: string): string =>
  `${jobId}.${stage}.${taskId}`;

/**
 * A job's cancellation epoch: `cancel` increments it, and every task and stage carries the epoch
 * it was enqueued under. Work enqueued before a cancel is dropped; work enqueued after it (a
 * retried job) runs, which is what the in-process runner does too.
 */
export const cancelEpochKey = (prefix: string, jobId: string): string =>
  `${prefix}:cancel:${jobId}`;
/** Pub/sub channel on which a cancel reaches the workers running the job's tasks. */
export const cancelChannel = (prefix: string): string => `${prefix}:cancel`;
/** The BullMQ ids of a job's tasks, so a cancel can remove the ones still waiting. */
export const jobTasksKey = (prefix: string, jobId: string): string => `${prefix}:tasks:${jobId}`;

/** How long cancel markers and task lists outlive their last write. */
export const MARKER_TTL_S = 7 * 24 * 3600;

export interface TaskData {
  jobId: string;
  stage: number;
  task: TaskSpec;
  epoch: number;
  /** When the task first failed with an outage error (epoch ms), and how many times since. */
  outage?: { since: number; tries: number };
}

export interface StageData {
  jobId: string;
  stage: number;
  epoch: number;
}

/** What a task job returns to its parent (read back with `getChildrenValues`). */
export interface TaskReturn {
  taskId: string;
  result: TaskResult;
}

export interface CancelMessage {
  jobId: string;
  epoch: number;
}

/**
 * A task's failure travels to its parent stage as the failed job's reason, so the reason is the
 * error record as JSON: code, message and stderr tail survive the trip between processes, and
 * nobody depends on `instanceof`.
 */
export function encodeError(record: ErrorRecord): string {
  return JSON.stringify(record);
}

/**
 * The reasons BullMQ writes itself when a task's worker died too often while running it (its
 * stall limit, `maxStalledCount`) or it was started too often.
 */
const STALL_REASONS = [
  'job stalled more than allowable limit',
  'job started more than allowable limit',
];

/**
 * Reads a failure reason back. BullMQ's own stall-limit reasons become TASK_STALLED (typed and
 * permanent: the input probably kills its workers); any other foreign reason becomes INTERNAL.
 */
export function decodeError(reason: string | undefined): ErrorRecord {
  if (reason && STALL_REASONS.includes(reason))
    return {
      code: 'TASK_STALLED',
      message:
        `The task's worker died or was killed while running it too many times (${reason}); ` +
        'the input may be what kills it.',
      retryable: false,
    };
  try {
    const parsed = JSON.parse(reason ?? '') as Partial<ErrorRecord>;
    if (isErrorCode(parsed.code) && typeof parsed.message === 'string') {
      const record: ErrorRecord = {
        code: parsed.code,
        message: parsed.message,
        retryable: ERROR_CODES[parsed.code].retryable,
      };
      if (typeof parsed.stderrTail === 'string' && parsed.stderrTail)
        record.stderrTail = parsed.stderrTail;
      return record;
    }
  } catch {
    // Not ours: fall through.
  }
  return {
    code: 'INTERNAL',
    message: reason || 'The task failed without a reason.',
    retryable: true,
  };
}
