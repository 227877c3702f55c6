import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { MediaflowError, toErrorRecord, type ErrorRecord } from '../../functions/errors.js';
import type { TaskResult } from '../plan/types.js';
import {
  backoffDelay,
  OUTAGE_CODES,
  outageDelay,
  type RetryPolicy,
  type RunnerHooks,
  type RunningTask,
} from './port.js';
import {
  BULL_PREFIX,
  cancelChannel,
  cancelEpochKey,
  decodeError,
  encodeError,
  queueNames,
  type CancelMessage,
  type StageData,
  type TaskData,
  type TaskReturn,
} from './bullmq-keys.js';
import { throttleProgress } from './throttle.js';

/**
 * How a dead worker's task is noticed. A worker renews the lock on each running task every
 * `lockDurationMs / 2`; ffmpeg runs in a child process and sharp in libuv's pool, so the event
 * loop is free to renew even in the middle of a transcode. A `kill -9`'d worker stops renewing,
 * its lock expires, and the next stalled check (every `stalledIntervalMs`, run by every worker)
 * puts the task back in the wait list for another worker: recovery takes at most about
 * `lockDurationMs + 2 * stalledIntervalMs`.
 */
export interface LockSettings {
  /**
   * 20 s: one renewal (every 10 s) may fail, say during a Redis failover, without the task being
   * taken from a healthy worker; yet a crash is noticed within half a minute, not BullMQ's minute.
   */
  lockDurationMs: number;
  /** 5 s: the check is one small Lua script per worker, so checking often costs little. */
  stalledIntervalMs: number;
  /**
   * 2: one stall is the normal price of a crash or a node being drained; a task that stalls a
   * third time is probably what kills its workers (out of memory on a hostile input), and is
   * failed rather than passed round the fleet forever.
   */
  maxStalledCount: number;
}

export const DEFAULT_LOCK_SETTINGS: LockSettings = {
  lockDurationMs: 20_000,
  stalledIntervalMs: 5_000,
  maxStalledCount: 2,
};

export interface ConsumerOptions {
  redisUrl: string;
  queuePrefix: string;
  retry: RetryPolicy;
  /** Tasks run at once by this process. */
  concurrency: number;
  lock?: Partial<LockSettings>;
  /** Which queues this process consumes; both by default. */
  queues?: { tasks?: boolean; stages?: boolean };
  /** Least time between two progress reports of one task. */
  progressIntervalMs?: number;
  onError: (error: unknown) => void;
}

interface ConsumedTask extends RunningTask {
  epoch: number;
  controller: AbortController;
  /** Set when the worker shuts down: the task goes back to the queue instead of failing. */
  releasing: boolean;
}

/** The custom backoff strategy's name; its delay comes from the job's own options. */
export const BACKOFF_TYPE = 'mediaflow-jitter';

/**
 * The consuming side of the BullMQ runner: one Worker on the task queue and one on the stage
 * queue, and a subscriber that aborts the tasks of cancelled jobs. Holds no state beyond the
 * tasks it is running, so any number of these can run anywhere.
 */
export class BullmqConsumer {
  private readonly workers: Worker[] = [];
  private readonly running = new Set<ConsumedTask>();
  private readonly subscriber: Redis;
  private readonly progressIntervalMs: number;

  constructor(
    private readonly hooks: RunnerHooks,
    private readonly options: ConsumerOptions,
    /** The producer's connection, for reading cancel epochs. */
    private readonly redis: Redis,
  ) {
    const lock = { ...DEFAULT_LOCK_SETTINGS, ...options.lock };
    const names = queueNames(options.queuePrefix);
    const queues = { tasks: true, stages: true, ...options.queues };
    this.progressIntervalMs = options.progressIntervalMs ?? 250;
    const common = {
      prefix: BULL_PREFIX,
      // Workers block on Redis and must wait out an outage rather than give up, hence null.
      connection: { url: options.redisUrl, maxRetriesPerRequest: null },
      lockDuration: lock.lockDurationMs,
      stalledInterval: lock.stalledIntervalMs,
      maxStalledCount: lock.maxStalledCount,
      autorun: false,
      settings: {
        backoffStrategy: (
          attemptsMade: number,
          _type?: string,
          _err?: Error,
          job?: { opts: { backoff?: number | { delay?: number } } },
        ) =>
          backoffDelay(
            { attempts: 0, backoffMs: backoffMs(job?.opts.backoff, options.retry.backoffMs) },
            attemptsMade,
          ),
      },
    };
    if (queues.tasks)
      this.workers.push(
        new Worker<TaskData, TaskReturn>(
          names.tasks,
          (job, token) => this.processTask(job, token),
          { ...common, concurrency: options.concurrency },
        ),
      );
    // Stage jobs only join results and plan the next stage (I/O, no media work).
    if (queues.stages)
      this.workers.push(
        new Worker<StageData>(names.stages, (job) => this.processStage(job), {
          ...common,
          concurrency: Math.max(2, options.concurrency),
        }),
      );
    for (const worker of this.workers) worker.on('error', options.onError);

    this.subscriber = redis.duplicate();
    this.subscriber.on('error', options.onError);
    this.subscriber.on('message', (_channel, message) => this.onCancelMessage(message));
    // Pub/sub is fire-and-forget: a cancel published while we were disconnected is re-read here.
    this.subscriber.on('ready', () => void this.recheckRunning().catch(options.onError));
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(cancelChannel(this.options.queuePrefix));
    for (const worker of this.workers) {
      void worker.run().catch(this.options.onError);
      await worker.waitUntilReady();
    }
  }

  /**
   * Stops taking tasks and lets running ones finish for `graceMs`; then aborts them (their ffmpeg
   * process groups are killed through the signal, and `onAbort` may kill stragglers) and hands
   * them back to the queue without spending an attempt, so another worker starts them at once
   * rather than after a stall timeout. A task that ignores its signal is abandoned after
   * `ABANDON_MS`: its lock lapses and the stalled check recovers it.
   */
  async stop(graceMs: number, onAbort: () => void = () => {}): Promise<void> {
    const closing = Promise.all(this.workers.map((w) => w.close()));
    if (!(await settlesWithin(closing, graceMs))) {
      for (const task of this.running) {
        task.releasing = true;
        // Released, not failed: another worker takes the task over, so no retry is spent on it.
        task.controller.abort(new MediaflowError('CANCELLED', 'worker shutting down'));
      }
      onAbort();
      if (!(await settlesWithin(closing, ABANDON_MS)))
        await Promise.all(this.workers.map((w) => w.close(true)));
    }
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  /** Tasks running in this process now. */
  get activeCount(): number {
    return this.running.size;
  }

  runningTasks(): RunningTask[] {
    return [...this.running].map(({ jobId, taskId, startedAt }) => ({ jobId, taskId, startedAt }));
  }

  private async processTask(
    job: Job<TaskData, TaskReturn>,
    token: string | undefined,
  ): Promise<TaskReturn> {
    const { jobId, task, epoch, stage } = job.data;
    const attempt = job.attemptsMade + 1;
    if (await this.isCancelled(jobId, epoch)) throw new UnrecoverableError(encodeError(CANCELLED));
    const running: ConsumedTask = {
      jobId,
      taskId: task.id,
      startedAt: new Date().toISOString(),
      epoch,
      controller: new AbortController(),
      releasing: false,
    };
    this.running.add(running);
    const progress = throttleProgress(
      (f) => this.hooks.taskProgress(jobId, task.id, f),
      this.progressIntervalMs,
      this.options.onError,
    );
    const status = (
      state: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'queued',
      extra: { progress?: number; attempts?: number; error?: ErrorRecord } = {},
    ) =>
      this.hooks.taskChanged(jobId, task.id, {
        kind: task.kind,
        stage,
        state,
        progress: extra.progress ?? 0,
        attempts: extra.attempts ?? attempt,
        ...(extra.error ? { error: extra.error } : {}),
        // The store keeps the first start; an end is recorded for final states only.
        ...(state === 'running'
          ? { startedAt: new Date().toISOString() }
          : state === 'queued'
            ? {}
            : { endedAt: new Date().toISOString() }),
      });
    try {
      await status('running');
      const result: TaskResult = await this.hooks.execute(
        jobId,
        task,
        running.controller.signal,
        (f) => progress.report(f),
      );
      await progress.stop();
      // The result reaches the stage through BullMQ whatever happens to this status write.
      await status('succeeded', { progress: 1 }).catch(this.options.onError);
      return { taskId: task.id, result };
    } catch (error) {
      await progress.stop();
      if (running.releasing && token) {
        await status('queued', { attempts: job.attemptsMade }).catch(this.options.onError);
        await job.moveToWait(token);
        // Tells BullMQ the job was moved on purpose: no attempt is spent, nothing is failed.
        throw new WaitingError();
      }
      const aborted = running.controller.signal.aborted;
      const record = aborted ? CANCELLED : toErrorRecord(error);
      if (!aborted && token && OUTAGE_CODES.has(record.code)) {
        const outage = job.data.outage ?? { since: Date.now(), tries: 0 };
        if (Date.now() - outage.since < (this.options.retry.outageBudgetMs ?? 0)) {
          // Storage or Redis is away: try again later without spending an attempt.
          const tries = outage.tries + 1;
          await job.updateData({ ...job.data, outage: { since: outage.since, tries } });
          await status('queued', { attempts: job.attemptsMade, error: record }).catch(
            this.options.onError,
          );
          await job.moveToDelayed(Date.now() + outageDelay(this.options.retry, tries), token);
          throw new DelayedError();
        }
      }
      const final = aborted || !record.retryable || attempt >= (job.opts.attempts ?? 1);
      await status(aborted ? 'cancelled' : final ? 'failed' : 'queued', { error: record }).catch(
        this.options.onError,
      );
      // UnrecoverableError: BullMQ fails the job without retrying; the parent sees the reason.
      if (final) throw new UnrecoverableError(encodeError(record));
      throw new Error(encodeError(record));
    } finally {
      this.running.delete(running);
    }
  }

  /**
   * Runs when every task of the stage is done, or as soon as one has failed for good (children
   * carry `continueParentOnFailure`). Either way the hooks are called here, inside the parent's
   * lock: if this process dies half-way, the stage job stalls and runs again elsewhere, so a
   * stage's outcome is never lost.
   */
  private async processStage(job: Job<StageData>): Promise<{ outcome: string }> {
    const { jobId, stage, epoch } = job.data;
    // A cancelled job is compensated by whoever cancelled it.
    if (await this.isCancelled(jobId, epoch)) return { outcome: 'cancelled' };
    const failures = Object.entries(await job.getIgnoredChildrenFailures());
    if (failures.length > 0) {
      // Prefer the root cause over siblings that were cancelled because of it.
      const decoded = failures.map(([key, reason]) => ({
        taskId: taskIdOf(key, jobId, stage),
        error: decodeError(reason),
      }));
      const first = decoded.find((f) => f.error.code !== 'CANCELLED') ?? decoded[0]!;
      await this.hooks.stageFailed(jobId, stage, first.taskId, first.error);
      // The parent ends failed too, as the children's failure makes it.
      throw new UnrecoverableError(`task ${first.taskId} failed: ${first.error.code}`);
    }
    const values = await job.getChildrenValues<TaskReturn>();
    const results: Record<string, TaskResult> = {};
    for (const value of Object.values(values)) results[value.taskId] = value.result;
    await this.hooks.stageDone(jobId, stage, results);
    return { outcome: 'done' };
  }

  private async isCancelled(jobId: string, epoch: number): Promise<boolean> {
    const current = Number(
      (await this.redis.get(cancelEpochKey(this.options.queuePrefix, jobId))) ?? 0,
    );
    return current > epoch;
  }

  private onCancelMessage(message: string): void {
    let parsed: CancelMessage;
    try {
      parsed = JSON.parse(message) as CancelMessage;
    } catch {
      return;
    }
    for (const task of this.running)
      if (task.jobId === parsed.jobId && task.epoch < parsed.epoch)
        task.controller.abort(new MediaflowError('CANCELLED', 'job cancelled'));
  }

  private async recheckRunning(): Promise<void> {
    for (const task of [...this.running])
      if (await this.isCancelled(task.jobId, task.epoch))
        task.controller.abort(new MediaflowError('CANCELLED', 'job cancelled'));
  }
}

/** How long aborted tasks get to hand themselves back before the worker leaves without them. */
const ABANDON_MS = 10_000;

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    timeout,
  ]);
  clearTimeout(timer);
  return settled;
}

const CANCELLED: ErrorRecord = {
  code: 'CANCELLED',
  message: 'The job was cancelled.',
  retryable: false,
};

function backoffMs(backoff: number | { delay?: number } | undefined, fallback: number): number {
  if (typeof backoff === 'number') return backoff;
  return backoff?.delay ?? fallback;
}

/** `bull:<queue>:<jobId>.<stage>.<taskId>` -> `<taskId>`. */
function taskIdOf(childKey: string, jobId: string, stage: number): string {
  const marker = `:${jobId}.${stage}.`;
  const at = childKey.lastIndexOf(marker);
  return at >= 0 ? childKey.slice(at + marker.length) : childKey;
}
