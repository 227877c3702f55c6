import { FlowProducer, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MediaflowError } from '../../functions/errors.js';
import type {
  RetryPolicy,
  Runner,
  RunnerHooks,
  RunningTask,
  StageRequest,
  StageStatus,
} from './port.js';
import {
  BULL_PREFIX,
  cancelChannel,
  cancelEpochKey,
  jobTasksKey,
  MARKER_TTL_S,
  queueNames,
  stageJobId,
  taskJobId,
  type CancelMessage,
  type StageData,
  type TaskData,
} from './bullmq-keys.js';
import { BACKOFF_TYPE, BullmqConsumer, type ConsumerOptions } from './bullmq-consumer.js';

export interface BullmqRunnerOptions {
  redisUrl: string;
  /** Queues are `${queuePrefix}-tasks` and `${queuePrefix}-stages`. */
  queuePrefix: string;
  retry: RetryPolicy;
  /**
   * Also run tasks and stages in this process (a `mediaflow worker`). Left out, the runner only
   * enqueues (an API or trigger process).
   */
  consume?: Pick<ConsumerOptions, 'concurrency' | 'lock' | 'queues' | 'progressIntervalMs'>;
  onError?: (error: unknown) => void;
}

/** Finished queue jobs are kept this long, so a stage replayed within it is still deduplicated. */
const KEEP_COMPLETED_S = 24 * 3600;
const KEEP_FAILED_S = 7 * 24 * 3600;
/**
 * Retries of the stage job itself, for when joining or planning hits a transient error (Redis,
 * storage).
 */
const STAGE_ATTEMPTS = 10;

/**
 * The distributed runner. Each stage is a BullMQ flow: a parent job on the stage queue whose
 * children are the stage's tasks on the task queue. BullMQ joins the children (fan-in) and then
 * runs the parent, which calls `stageDone` or `stageFailed`. Ids are derived from job, stage and
 * task, so enqueueing a stage twice is a no-op.
 *
 * One class plays both roles so that one process can be a producer, a consumer or both: the
 * conformance suite and the embedded tests run both in one process, while `mediaflow serve`
 * only produces and `mediaflow worker` does both (its stage jobs plan and enqueue the next stage).
 */
export class BullmqRunner implements Runner {
  private readonly redis: Redis;
  private readonly flows: FlowProducer;
  private readonly tasks: Queue;
  private readonly stages: Queue;
  private readonly consumer: BullmqConsumer | undefined;
  private readonly onError: (error: unknown) => void;
  private closed: Promise<void> | undefined;

  constructor(
    hooks: RunnerHooks,
    private readonly options: BullmqRunnerOptions,
  ) {
    this.onError = options.onError ?? ((error) => console.error(error));
    // Producers fail fast while Redis is away (the API answers 503) instead of queueing commands.
    this.redis = new Redis(options.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
    });
    this.redis.on('error', this.onError);
    const connection = this.redis;
    this.flows = new FlowProducer({ connection, prefix: BULL_PREFIX });
    this.flows.on('error', this.onError);
    this.tasks = new Queue(queueNames(options.queuePrefix).tasks, {
      connection,
      prefix: BULL_PREFIX,
    });
    this.tasks.on('error', this.onError);
    this.stages = new Queue(queueNames(options.queuePrefix).stages, {
      connection,
      prefix: BULL_PREFIX,
    });
    this.stages.on('error', this.onError);
    this.consumer = options.consume
      ? new BullmqConsumer(
          hooks,
          {
            ...options.consume,
            redisUrl: options.redisUrl,
            queuePrefix: options.queuePrefix,
            retry: options.retry,
            onError: this.onError,
          },
          this.redis,
        )
      : undefined;
  }

  /** Connects, and starts consuming when this runner is a consumer. */
  async start(): Promise<void> {
    await Promise.all([
      this.flows.waitUntilReady(),
      this.tasks.waitUntilReady(),
      this.stages.waitUntilReady(),
    ]);
    await this.consumer?.start();
  }

  async runStage({ jobId, stage, tasks }: StageRequest): Promise<void> {
    const names = queueNames(this.options.queuePrefix);
    const { attempts, backoffMs } = this.options.retry;
    const epoch = Number(
      (await this.redis.get(cancelEpochKey(this.options.queuePrefix, jobId))) ?? 0,
    );
    const keep = {
      removeOnComplete: { age: KEEP_COMPLETED_S },
      removeOnFail: { age: KEEP_FAILED_S },
    };
    const childIds = tasks.map((task) => taskJobId(jobId, stage, task.id));
    await this.redis
      .multi()
      .sadd(jobTasksKey(this.options.queuePrefix, jobId), ...(childIds.length ? childIds : ['-']))
      .expire(jobTasksKey(this.options.queuePrefix, jobId), MARKER_TTL_S)
      .exec();
    await this.flows.add({
      name: 'stage',
      queueName: names.stages,
      data: { jobId, stage, epoch } satisfies StageData,
      opts: {
        jobId: stageJobId(jobId, stage),
        attempts: STAGE_ATTEMPTS,
        backoff: { type: BACKOFF_TYPE, delay: backoffMs },
        ...keep,
      },
      children: tasks.map((task, i) => ({
        name: task.kind,
        queueName: names.tasks,
        data: { jobId, stage, task, epoch } satisfies TaskData,
        opts: {
          jobId: childIds[i]!,
          attempts,
          backoff: { type: BACKOFF_TYPE, delay: backoffMs },
          // A failed child starts its parent at once, which reports the failure from inside its
          // own lock (see BullmqConsumer.processStage) and then fails: no stage waits forever.
          continueParentOnFailure: true,
          ...keep,
        },
      })),
    });
  }

  /**
   * From the stage's parent job: a parent that does not exist was never enqueued (or was removed),
   * and a completed one has already reported; a failed one spent its attempts without reporting
   * (a failed task reports before its parent fails, so the job has ended then).
   */
  async stageStatus(jobId: string, stage: number): Promise<StageStatus> {
    const state = await this.stages.getJobState(stageJobId(jobId, stage));
    if (state === 'unknown' || state === 'completed') return 'missing';
    return state === 'failed' ? 'dead' : 'live';
  }

  /**
   * Marks the job cancelled (its epoch moves on, so every task enqueued so far is dropped when a
   * worker takes it), tells the workers running its tasks to abort them (killing ffmpeg), and
   * removes its tasks still waiting in the queue.
   */
  async cancel(jobId: string): Promise<void> {
    const prefix = this.options.queuePrefix;
    const key = cancelEpochKey(prefix, jobId);
    const [[, epoch] = [], , [, ids] = []] =
      (await this.redis
        .multi()
        .incr(key)
        .expire(key, MARKER_TTL_S)
        .smembers(jobTasksKey(prefix, jobId))
        .exec()) ?? [];
    await this.redis.publish(
      cancelChannel(prefix),
      JSON.stringify({ jobId, epoch: Number(epoch) } satisfies CancelMessage),
    );
    // Only waiting tasks are removed: running ones stop through the abort above, and finished
    // ones stay as the record of what ran.
    for (const id of (ids as string[] | undefined) ?? []) {
      if (id === '-') continue;
      const state = await this.tasks.getJobState(id).catch(() => 'unknown');
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized')
        await this.tasks.remove(id).catch(() => 0);
    }
  }

  /** Readiness: resolves when Redis answers, throws QUEUE_UNAVAILABLE otherwise. */
  async ping(): Promise<void> {
    try {
      await this.redis.ping();
    } catch (error) {
      throw new MediaflowError(
        'QUEUE_UNAVAILABLE',
        `Redis does not answer: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Graceful stop for a worker: running tasks may finish within `graceMs`, then are aborted and
   * released (`onAbort` runs right after the abort, e.g. to kill media processes); then
   * disconnects.
   */
  shutdown(graceMs: number, onAbort?: () => void): Promise<void> {
    this.closed ??= (async () => {
      await this.consumer?.stop(graceMs, onAbort);
      await Promise.allSettled([this.flows.close(), this.tasks.close(), this.stages.close()]);
      await this.redis.quit().catch(() => this.redis.disconnect());
    })();
    return this.closed;
  }

  /** Stops at once: running tasks are aborted and handed back to the queue. */
  close(): Promise<void> {
    return this.shutdown(0);
  }

  runningTasks(): RunningTask[] {
    return this.consumer?.runningTasks() ?? [];
  }

  /** Tasks this process is running now (0 for a producer). */
  get activeTasks(): number {
    return this.consumer?.activeCount ?? 0;
  }
}
