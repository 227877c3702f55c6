import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { JOB_STATES } from '../../jobs/job.js';
import type { ApiContext } from '../context.js';

export const overviewSchema = z.object({
  jobs: z.object(Object.fromEntries(JOB_STATES.map((s) => [s, z.number().int()]))),
  /** Tasks waiting for a runner slot. */
  queueDepth: z.number().int(),
  runningTasks: z.number().int(),
  /** How tasks run: in this process (embedded) or on BullMQ workers. */
  runner: z.enum(['in-process', 'bullmq']),
  /** Tasks at once per process (in-process) or per worker (BullMQ). */
  concurrency: z.number().int(),
  /** Workers whose heartbeat is current (this process in embedded mode); null without Redis. */
  liveWorkers: z.number().int().nullable(),
  /** Mean media seconds per wall second of the jobs that succeeded since the API started. */
  realtimeFactor: z.number().nullable(),
});

/**
 * `GET /v1/overview`: the operator view's header in one call, from the same sources as /metrics
 * (which scrapers read; this is for people and the dashboard).
 */
export async function overviewRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  server.get('/v1/overview', async () => ({
    ...(await ctx.metrics.overview()),
    runner: ctx.app.config.mode.runner,
    concurrency: ctx.app.config.worker.concurrency,
    // A count only: who and where the workers are is for admins (GET /v1/workers).
    liveWorkers: await ctx.workers().then(
      (workers) => workers.length,
      () => null,
    ),
  }));
}
