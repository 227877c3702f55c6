import type { Redis } from 'ioredis';
import { z } from 'zod';
import { MediaflowError } from '../../functions/errors.js';

/** What a worker says about itself in each heartbeat (GET /v1/workers lists these). */
export const workerSchema = z.object({
  /** `<host>:<pid>:<random>`: unique even when containers share pid 1. */
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  /** Tasks this worker runs at once (MEDIAFLOW_WORKER_CONCURRENCY). */
  concurrency: z.number().int(),
  /** `stopping` from its SIGTERM until it has handed its tasks back and left. */
  state: z.enum(['running', 'stopping']),
  version: z.string(),
  ffmpegVersion: z.string(),
  startedAt: z.string(),
  /** Its last heartbeat. */
  seenAt: z.string(),
  tasks: z.array(z.object({ jobId: z.string(), taskId: z.string(), startedAt: z.string() })),
});
export type WorkerInfo = z.infer<typeof workerSchema>;

export const workerListSchema = z.object({ workers: z.array(workerSchema) });

/**
 * The live workers in Redis: one key per worker (`<prefix>:worker:<id>`, its latest heartbeat)
 * that expires unless renewed, and a set of their ids, so listing reads only the workers' own keys
 * and never scans the keyspace. Redis expires the keys, so no machine's clock decides who is
 * alive. A `kill -9`'d worker stops renewing and drops out by itself (a lister removes its id);
 * a worker that stops cleanly removes its entry.
 */
export class WorkerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:worker:${id}`;
  }

  private get index(): string {
    return `${this.prefix}:workers`;
  }

  async beat(info: WorkerInfo, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.key(info.id), JSON.stringify(info), 'PX', ttlMs)
      .sadd(this.index, info.id)
      .exec();
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().del(this.key(id)).srem(this.index, id).exec();
  }

  /** The workers heard from within their TTL, oldest first; QUEUE_UNAVAILABLE without Redis. */
  async list(): Promise<WorkerInfo[]> {
    try {
      const ids = await this.redis.smembers(this.index);
      if (ids.length === 0) return [];
      const values = await this.redis.mget(ids.map((id) => this.key(id)));
      // A worker beating right now is added back by its next beat, one period later at most.
      const lapsed = ids.filter((_, i) => values[i] === null);
      if (lapsed.length) await this.redis.srem(this.index, ...lapsed);
      return values
        .flatMap((value) => (value ? [workerSchema.parse(JSON.parse(value))] : []))
        .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
    } catch (error) {
      throw new MediaflowError(
        'QUEUE_UNAVAILABLE',
        `Cannot read the workers from Redis: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
