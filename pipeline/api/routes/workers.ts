import type { FastifyInstance } from 'fastify';
import { ApiError } from '../http-errors.js';
import type { ApiContext } from '../context.js';

/**
 * `GET /v1/workers`: the live workers with their hosts, running tasks and versions. Admins only:
 * host names, pids and other principals' job ids are the operator's business.
 */
export async function workerRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  server.get('/v1/workers', async (request) => {
    if (!request.admin)
      throw new ApiError('FORBIDDEN', 'Only an admin key (MEDIAFLOW_ADMIN_KEYS) lists workers');
    return { workers: await ctx.workers() };
  });
}
