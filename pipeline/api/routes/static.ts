import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { buildOpenApi } from '../openapi.js';

const DASHBOARD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../dashboard');

/** Every static file by URL: a fixed table, so no request path ever becomes a file path. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(DASHBOARD, 'index.html'), type: 'text/html; charset=utf-8' },
  // The dashboard's modules, one small file per part of the page.
  ...Object.fromEntries(
    [
      'app',
      'sse',
      'dom',
      'follow',
      'job-page',
      'jobs-page',
      'workers-page',
      'operator',
      'timeline',
      'outputs',
      'seek-preview',
      'upload',
      'submit-form',
    ].map((name) => [
      `/assets/${name}.js`,
      { file: path.join(DASHBOARD, `${name}.js`), type: 'text/javascript; charset=utf-8' },
    ]),
  ),
  '/assets/style.css': { file: path.join(DASHBOARD, 'style.css'), type: 'text/css; charset=utf-8' },
  '/docs': { file: path.join(DASHBOARD, 'docs.html'), type: 'text/html; charset=utf-8' },
  '/assets/docs.js': {
    file: path.join(DASHBOARD, 'docs.js'),
    type: 'text/javascript; charset=utf-8',
  },
  // Served from node_modules: no CDN, no build step.
  '/assets/vendor/hls.mjs': {
    file: fileURLToPath(import.meta.resolve('hls.js/dist/hls.min.mjs')),
    type: 'text/javascript; charset=utf-8',
  },
  '/assets/vendor/eventsource-parser.js': {
    file: fileURLToPath(import.meta.resolve('eventsource-parser')),
    type: 'text/javascript; charset=utf-8',
  },
};

/**
 * Pages may only load this server's own scripts and styles; media and hls.js's worker come from
 * blob: URLs (Media Source Extensions), images from blob: URLs made from authenticated fetches.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The dashboard, the docs page and the OpenAPI document; public, since they hold no data. */
export async function staticRoutes(
  server: FastifyInstance,
  ctx: ApiContext,
  version: string,
): Promise<void> {
  const cache = new Map<string, Buffer>();
  // Rebuilt only when the presets change (a reload of the presets file), since it lists them.
  let openapi = { catalog: ctx.app.orchestrator.catalog, text: '' };
  const openapiText = () => {
    const catalog = ctx.app.orchestrator.catalog;
    if (!openapi.text || openapi.catalog !== catalog) {
      const presets = catalog.presets.map((p) => p.name);
      openapi = {
        catalog,
        text: JSON.stringify(buildOpenApi({ maxBatchItems: ctx.maxBatchItems, version, presets })),
      };
    }
    return openapi.text;
  };

  for (const [url, { file, type }] of Object.entries(FILES)) {
    server.get(url, async (_request, reply) => {
      let body = cache.get(file);
      if (!body) {
        body = await fs.promises.readFile(file);
        cache.set(file, body);
      }
      return reply
        .type(type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .send(body);
    });
  }
  server.get('/openapi.json', async (_request, reply) =>
    reply.type('application/json').send(openapiText()),
  );
}
