import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { MediaflowError } from '../../functions/errors.js';
import type { TaskResult } from '../plan/types.js';
import {
  JOB_STATES,
  type JobEvent,
  type JobRecord,
  type JobState,
  type TaskStatus,
} from './job.js';
import {
  ADD_WRITES,
  COUNTS,
  CREATE,
  LIST_PAGE,
  SEARCH_PAGE,
  PUT_FIELDS,
  RESET_TASKS,
  SET_PROGRESS,
  SET_STATE,
  SET_TASK,
  TOUCH,
} from './redis-scripts.js';
import {
  PRUNE_BATCH,
  resolveRetention,
  type Retention,
  type RetentionOptions,
} from './retention.js';
import { asciiLower, SEARCH_BUDGET } from './search.js';
import type { JobListQuery, JobPage, JobStore, StateGuard } from './store.js';

type Patch = Partial<Pick<JobRecord, 'state' | 'stage' | 'outputs' | 'error'>>;

/**
 * Job state in Redis, shared by every API and worker process of a distributed deployment.
 *
 * Layout under `prefix` (default `mediaflow:`): `job:<id>` (a hash: spec, state, stage, outputs,
 * error, timestamps), `job:<id>:tasks` (one field per task, so concurrent workers never overwrite
 * each other's status), `job:<id>:results`, `index:all` and `index:<state>` (sorted sets scored by
 * creation time, for newest-first pages), `activity` (open jobs scored by last activity, for the
 * watchdog), `expiry:<state>` (finished jobs scored by when they expire, see retention in
 * redis-scripts.ts), and the `events` pub/sub channel behind `watch`. A finished job's keys, and
 * the API's `owners:<id>` set under the same prefix, carry a TTL of the retention.
 *
 * Redis errors become QUEUE_UNAVAILABLE (retryable, HTTP 503) here, at the adapter.
 */
export class RedisJobStore implements JobStore {
  private readonly redis: Redis;
  private subscriber: Redis | undefined;
  private subscribed: Promise<void> | undefined;
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly retention: Retention;

  constructor(
    redisUrl: string,
    private readonly prefix = 'mediaflow:',
    private readonly onError: (error: unknown) => void = () => {},
    retention: RetentionOptions = {},
    /** Jobs one search call looks at, at most; smaller in tests. */
    private readonly searchBudget = SEARCH_BUDGET,
  ) {
    this.retention = resolveRetention(retention);
    // A few reconnection attempts per command, then an error: callers (API, task hooks) decide.
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    this.redis.on('error', onError);
  }

  async create(job: JobRecord): Promise<boolean> {
    const id = job.spec.id;
    const tasks = Object.entries(job.tasks).flatMap(([taskId, status]) => [
      taskId,
      JSON.stringify(status),
    ]);
    const created = await this.eval(
      CREATE,
      [
        this.jobKey(id),
        this.tasksKey(id),
        this.indexKey('all'),
        this.indexKey(job.state),
        this.activityKey,
      ],
      [
        id,
        this.channel,
        JSON.stringify(job.spec),
        job.state,
        job.createdAt,
        job.updatedAt,
        String(job.stage),
        JSON.stringify(job.outputs),
        job.error ? JSON.stringify(job.error) : '',
        String(Date.parse(job.createdAt) || Date.now()),
        this.prefix,
        String(this.retention.now()),
        String(this.retention.ms),
        String(PRUNE_BATCH),
        ...tasks,
      ],
    );
    return created === 1;
  }

  async get(id: string): Promise<JobRecord | null> {
    const [record] = await this.getMany([id]);
    return record ?? null;
  }

  async setState(id: string, patch: Patch, guard?: StateGuard): Promise<boolean> {
    const fields: string[] = [];
    if ('state' in patch) fields.push('state', patch.state ?? '');
    if ('stage' in patch)
      fields.push('stage', patch.stage === undefined ? '' : String(patch.stage));
    if ('outputs' in patch) fields.push('outputs', JSON.stringify(patch.outputs ?? []));
    if ('error' in patch) fields.push('error', patch.error ? JSON.stringify(patch.error) : '');
    const done = await this.eval(
      SET_STATE,
      [this.jobKey(id), this.activityKey],
      [
        id,
        this.channel,
        this.prefix,
        new Date().toISOString(),
        guard === undefined ? '' : guard === 'open' ? 'open' : String(guard.openAtStage),
        String(this.retention.now()),
        String(this.retention.ms),
        ...fields,
      ],
    );
    if (done === 0) throw notFound(id);
    return done === 1;
  }

  async setTask(id: string, taskId: string, status: TaskStatus): Promise<void> {
    const done = await this.eval(
      SET_TASK,
      [this.jobKey(id), this.tasksKey(id), this.activityKey],
      [
        id,
        this.channel,
        taskId,
        JSON.stringify(status),
        new Date().toISOString(),
        String(Date.now()),
      ],
    );
    if (done === 0) throw notFound(id);
  }

  async setTaskProgress(id: string, taskId: string, progress: number): Promise<void> {
    await this.eval(
      SET_PROGRESS,
      [this.tasksKey(id), this.jobKey(id), this.activityKey],
      [id, this.channel, taskId, String(progress), String(Date.now())],
    );
  }

  async putResults(id: string, results: Record<string, TaskResult>): Promise<void> {
    const fields = Object.entries(results).flatMap(([taskId, result]) => [
      taskId,
      JSON.stringify(result),
    ]);
    if ((await this.eval(PUT_FIELDS, [this.jobKey(id), this.resultsKey(id)], fields)) !== 1)
      throw notFound(id);
  }

  async getResults(id: string): Promise<Record<string, TaskResult>> {
    const [[, exists], [, raw]] = (await this.guard(() =>
      this.redis.multi().exists(this.jobKey(id)).hgetall(this.resultsKey(id)).exec(),
    )) as [[unknown, number], [unknown, Record<string, string>]];
    if (!exists) throw notFound(id);
    return Object.fromEntries(
      Object.entries(raw).map(([taskId, json]) => [taskId, JSON.parse(json) as TaskResult]),
    );
  }

  async recordWrites(id: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.eval(ADD_WRITES, [this.jobKey(id), this.writesKey(id)], keys);
  }

  async getWrites(id: string): Promise<string[]> {
    return (await this.guard(() => this.redis.smembers(this.writesKey(id)))).sort();
  }

  async resetTasks(id: string, taskIds: string[]): Promise<void> {
    if (
      (await this.eval(
        RESET_TASKS,
        [this.jobKey(id), this.tasksKey(id), this.resultsKey(id)],
        taskIds,
      )) !== 1
    )
      throw notFound(id);
  }

  async list(query: JobListQuery): Promise<JobPage> {
    if (query.q) return this.search({ ...query, q: query.q });
    const [max, after] = decodeCursor(query.cursor);
    const rows = (await this.eval(
      LIST_PAGE,
      [this.indexKey(query.state ?? 'all')],
      [max, after, String(query.limit)],
    )) as string[];
    const ids: string[] = [];
    const scores: string[] = [];
    for (let i = 0; i < rows.length; i += 2) {
      ids.push(rows[i]!);
      scores.push(rows[i + 1]!);
    }
    const more = ids.length > query.limit;
    const page = ids.slice(0, query.limit);
    const jobs = (await this.getMany(page)).filter((j): j is JobRecord => j !== null);
    const last = page.length - 1;
    return { jobs, nextCursor: more && last >= 0 ? `${scores[last]}:${page[last]}` : null };
  }

  async counts(): Promise<Record<JobState, number>> {
    const sizes = (await this.eval(
      COUNTS,
      [],
      [this.prefix, String(this.retention.now()), String(PRUNE_BATCH), ...JOB_STATES],
    )) as number[];
    return Object.fromEntries(JOB_STATES.map((s, i) => [s, sizes[i] ?? 0])) as Record<
      JobState,
      number
    >;
  }

  /** A search looks at `searchBudget` jobs at most per call (see SEARCH_PAGE). */
  private async search(query: JobListQuery & { q: string }): Promise<JobPage> {
    const [max, after] = decodeCursor(query.cursor);
    const [cursor, ...ids] = (await this.eval(
      SEARCH_PAGE,
      [this.indexKey(query.state ?? 'all')],
      [
        max,
        after,
        String(query.limit),
        asciiLower(query.q),
        this.jobKey(''),
        String(this.searchBudget),
      ],
    )) as string[];
    const jobs = (await this.getMany(ids)).filter((j): j is JobRecord => j !== null);
    return { jobs, nextCursor: cursor || null };
  }

  async idle(before: number, limit: number): Promise<string[]> {
    return this.guard(() =>
      this.redis.zrangebyscore(this.activityKey, '-inf', `(${before}`, 'LIMIT', 0, limit),
    );
  }

  async touch(id: string): Promise<void> {
    if (
      (await this.eval(TOUCH, [this.jobKey(id), this.activityKey], [id, String(Date.now())])) !== 1
    )
      throw notFound(id);
  }

  watch(listener: (event: JobEvent) => void): () => void {
    this.events.on('event', listener);
    // Subscription failures reach onError inside subscribe().
    void this.subscribe();
    return () => this.events.off('event', listener);
  }

  /** Resolves once `watch` listeners receive events (the subscription is confirmed). */
  whenWatching(): Promise<void> {
    return this.subscribe();
  }

  /** Readiness: resolves when Redis answers, throws QUEUE_UNAVAILABLE otherwise. */
  async ping(): Promise<void> {
    await this.guard(() => this.redis.ping());
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
    await Promise.allSettled([this.redis.quit(), this.subscriber?.quit()]);
    this.redis.disconnect();
    this.subscriber?.disconnect();
  }

  private subscribe(): Promise<void> {
    if (!this.subscribed) {
      const subscriber = this.redis.duplicate({ maxRetriesPerRequest: null });
      this.subscriber = subscriber;
      subscriber.on('error', this.onError);
      subscriber.on('message', (_channel: string, message: string) => {
        try {
          this.events.emit('event', JSON.parse(message) as JobEvent);
        } catch (error) {
          this.onError(error);
        }
      });
      this.subscribed = subscriber.subscribe(this.channel).then(() => undefined);
      this.subscribed.catch(this.onError);
    }
    return this.subscribed;
  }

  private async getMany(ids: string[]): Promise<(JobRecord | null)[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.jobKey(id)).hgetall(this.tasksKey(id));
    const replies = (await this.guard(() => pipeline.exec())) ?? [];
    return ids.map((_, i) => {
      const [jobError, hash] = replies[2 * i] as [Error | null, Record<string, string>];
      const [tasksError, tasks] = replies[2 * i + 1] as [Error | null, Record<string, string>];
      if (jobError || tasksError) throw unavailable(jobError ?? tasksError);
      return hash.spec ? toRecord(hash, tasks) : null;
    });
  }

  private eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.guard(() => this.redis.eval(script, keys.length, ...keys, ...args));
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw error instanceof MediaflowError ? error : unavailable(error);
    }
  }

  private get channel(): string {
    return `${this.prefix}events`;
  }
  private jobKey(id: string): string {
    return `${this.prefix}job:${id}`;
  }
  private tasksKey(id: string): string {
    return `${this.prefix}job:${id}:tasks`;
  }
  private writesKey(id: string): string {
    return `${this.prefix}job:${id}:writes`;
  }
  private resultsKey(id: string): string {
    return `${this.prefix}job:${id}:results`;
  }
  /** Open jobs scored by last activity (epoch ms): the watchdog's index. */
  private get activityKey(): string {
    return `${this.prefix}activity`;
  }
  private indexKey(state: string): string {
    return `${this.prefix}index:${state}`;
  }
}

function toRecord(hash: Record<string, string>, tasks: Record<string, string>): JobRecord {
  const record: JobRecord = {
    spec: JSON.parse(hash.spec!) as JobRecord['spec'],
    state: hash.state as JobRecord['state'],
    createdAt: hash.createdAt!,
    updatedAt: hash.updatedAt!,
    stage: Number(hash.stage ?? 0),
    tasks: Object.fromEntries(
      Object.entries(tasks).map(([id, json]) => [id, JSON.parse(json) as TaskStatus]),
    ),
    outputs: hash.outputs ? (JSON.parse(hash.outputs) as JobRecord['outputs']) : [],
  };
  if (hash.error) record.error = JSON.parse(hash.error) as NonNullable<JobRecord['error']>;
  return record;
}

/** Cursor: `<score>:<id>` of the last job on the previous page. */
function decodeCursor(cursor: string | undefined): [string, string] {
  const match = cursor ? /^(\d+):(.+)$/.exec(cursor) : null;
  return match ? [match[1]!, match[2]!] : ['+inf', ''];
}

function notFound(id: string): MediaflowError {
  return new MediaflowError('JOB_NOT_FOUND', `job ${id} not found`);
}

function unavailable(error: unknown): MediaflowError {
  return new MediaflowError(
    'QUEUE_UNAVAILABLE',
    `Redis is unavailable: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}
