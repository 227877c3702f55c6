import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

/** The schedules of the presets file, each with its last run (and report) and its next time. */
export async function scheduleRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  server.get('/v1/schedules', async () => ({ schedules: await ctx.schedules() }));
}
