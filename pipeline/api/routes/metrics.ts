import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

/** `/metrics` in Prometheus text format; unauthenticated like the probes, for scrapers. */
export async function metricsRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  server.get('/metrics', async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
}
