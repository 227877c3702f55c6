import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { ApiError } from '../http-errors.js';
import { presetList, presetView } from '../preset-view.js';

/** The presets in force (built-ins and the presets file) and the routes, read-only. */
export async function presetRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  server.get('/v1/presets', async () => presetList(ctx.app.orchestrator.catalog));

  server.get<{ Params: { name: string } }>('/v1/presets/:name', async (request) => {
    const { presets } = ctx.app.orchestrator;
    const preset = presets.find((p) => p.name === request.params.name);
    if (!preset)
      throw new ApiError(
        'NOT_FOUND',
        `No preset ${JSON.stringify(request.params.name.slice(0, 64))}; expected one of ` +
          presets.map((p) => p.name).join(', '),
      );
    return presetView(preset);
  });
}
