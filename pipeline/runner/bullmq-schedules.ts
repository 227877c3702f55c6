import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Schedule } from '../presets/file-schema.js';
import {
  runSchedule,
  viewOf,
  type ScheduleDeps,
  type ScheduleRun,
  type Scheduler,
} from '../schedules/port.js';
import { BULL_PREFIX } from './bullmq-keys.js';

export interface BullmqSchedulerOptions {
  redisUrl: string;
  queuePrefix: string;
  /** A delivery later than this after its time counts as a catch-up in the run record. */
  lateAfterMs?: number;
}

export const scheduleQueueName = (prefix: string): string => `${prefix}-schedules`;

/**
 * The distributed mode's timer: one BullMQ job scheduler per schedule, created or changed by
 * any serve process whose file differs from what Redis holds (schedulers no longer in the file
 * are removed, so the last serve process to start decides), and one worker per process. BullMQ
 * keeps exactly one pending job per scheduler in Redis and a job goes to exactly one worker, so
 * each time fires once however many serve processes run.
 *
 * Runs missed while no serve process ran collapse into one: the pending job is overdue, the first
 * worker to start runs it at once (a catch-up), and the scheduler goes on from the next time.
 */
export async function startBullmqScheduler(
  deps: ScheduleDeps,
  schedules: readonly Schedule[],
  options: BullmqSchedulerOptions,
): Promise<Scheduler> {
  const name = scheduleQueueName(options.queuePrefix);
  const lastKey = `${options.queuePrefix}:schedules:last`;
  const byName = new Map(schedules.map((s) => [s.name, s]));
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const queue = new Queue(name, { connection: redis, prefix: BULL_PREFIX });
  queue.on('error', () => {});
  for (const s of schedules) {
    // Left alone when unchanged: upserting replaces the pending job, which would drop an overdue
    // one (a time missed while no serve process ran) instead of running it as a catch-up.
    const existing = await queue.getJobScheduler(s.name);
    if (existing?.pattern === s.cron && (existing.tz ?? undefined) === s.timezone) continue;
    await queue.upsertJobScheduler(
      s.name,
      { pattern: s.cron, ...(s.timezone ? { tz: s.timezone } : {}) },
      {
        name: s.name,
        data: { name: s.name },
        opts: { removeOnComplete: 20, removeOnFail: 20, attempts: 1 },
      },
    );
  }
  for (const existing of await queue.getJobSchedulers())
    if (!byName.has(existing.key)) await queue.removeJobScheduler(existing.key);

  const workerRedis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  workerRedis.on('error', () => {});
  const worker = new Worker<{ name: string }>(
    name,
    async (job) => {
      const schedule = byName.get(job.data.name);
      if (!schedule) return;
      const due = new Date(job.timestamp + (job.opts.delay ?? 0));
      const late = Date.now() - due.getTime() > (options.lateAfterMs ?? 1000);
      const run = await runSchedule(deps, schedule, due, late);
      await redis.hset(lastKey, schedule.name, JSON.stringify(run));
    },
    {
      connection: workerRedis,
      prefix: BULL_PREFIX,
      concurrency: 1,
    },
  );
  worker.on('error', () => {});

  return {
    async list() {
      const views = [];
      for (const s of schedules) {
        const scheduler = await queue.getJobScheduler(s.name);
        const last = await redis.hget(lastKey, s.name);
        const next = scheduler?.next ? new Date(scheduler.next) : null;
        views.push(viewOf(s, last ? (JSON.parse(last) as ScheduleRun) : undefined, next));
      }
      return views;
    },
    async close() {
      await worker.close();
      await queue.close();
      workerRedis.disconnect();
      redis.disconnect();
    },
  };
}
