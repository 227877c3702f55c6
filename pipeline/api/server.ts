import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { MediaflowError } from '../../functions/errors.js';
import type { App } from '../app.js';
import type { ScheduleView } from '../schedules/port.js';
import type { Logger } from '../log.js';
import { snapshot, thisProcess } from '../runner/heartbeat.js';
import type { WorkerInfo } from '../runner/worker-registry.js';
import { binarySummary } from '../tasks/media-tools.js';
import { MEDIAFLOW_VERSION } from '../version.js';
import { assertLoopbackHostHeader, assertSafeBinding, BearerAuth } from './auth.js';
import type { ApiContext, ReadinessCheck } from './context.js';
import { MemoryJobOwners, type JobOwners } from './job-owners.js';
import { installErrorHandling, sendError } from './http-errors.js';
import { MemoryIdempotencyStore, type IdempotencyStore } from './idempotency.js';
import { ApiMetrics, type MetricsSources } from './metrics.js';
import { DEFAULT_RATE_LIMIT, registerRateLimit, type RateLimitOptions } from './rate-limit.js';
import { healthRoutes } from './routes/health.js';
import { jobEventRoutes } from './routes/job-events.js';
import { jobRoutes } from './routes/jobs.js';
import { metricsRoutes } from './routes/metrics.js';
import { overviewRoutes } from './routes/overview.js';
import { uploadRoutes } from './routes/uploads.js';
import { workerRoutes } from './routes/workers.js';
import { outputRoutes } from './routes/outputs.js';
import { presetRoutes } from './routes/presets.js';
import { s3EventRoutes } from './routes/s3-events.js';
import { scheduleRoutes } from './routes/schedules.js';
import { staticRoutes } from './routes/static.js';

/** How the server is built; every field defaults from the app's configuration. */
export interface ServerOptions extends MetricsSources {
  /**
   * Bearer tokens for the API; default MEDIAFLOW_API_KEYS. Empty: no key needed (loopback only).
   */
  apiKeys?: readonly string[];
  /** Keys (same form) whose holders see every job; default MEDIAFLOW_ADMIN_KEYS. */
  adminKeys?: readonly string[];
  /** Who submitted which job; default this process's memory (Redis in distributed `serve`). */
  owners?: JobOwners;
  /** Bearer token for the storage webhook; default MEDIAFLOW_WEBHOOK_TOKEN. Unset: webhook off. */
  webhookToken?: string;
  /** Most items in one batch (413 beyond). */
  maxBatchItems?: number;
  /** Largest request body in bytes (413 beyond). */
  bodyLimit?: number;
  /** `false` turns rate limiting off. */
  rateLimit?: RateLimitOptions | false;
  /** Where Idempotency-Key answers are kept; default this process's memory. */
  idempotency?: IdempotencyStore;
  /** Extra /readyz checks by name, e.g. `{ redis: () => redis.ping() }` in distributed mode. */
  readiness?: Record<string, ReadinessCheck>;
  /**
   * The live workers, for GET /v1/workers; default this process when it runs tasks itself
   * (embedded mode). `serve` passes the heartbeat registry in distributed mode.
   */
  workers?: () => Promise<WorkerInfo[]>;
  /** The schedules with their last and next runs, for GET /v1/schedules. */
  schedules?: () => Promise<ScheduleView[]>;
  /** Registers a batch's `webhookUrl` for its jobs; without it such batches are refused. */
  subscribe?: (jobIds: string[], webhookUrl: string, principal: string) => Promise<void>;
  /** Logger for requests; default the app's. Authorization headers are redacted either way. */
  log?: Logger;
}

export const DEFAULT_MAX_BATCH_ITEMS = 1000;

/**
 * Builds the HTTP API, the storage webhook, probes, metrics, docs and dashboard over an app.
 * Route groups live in routes/, one file each; this file only wires them with auth and limits.
 * Listening is separate (`listen`), so tests can use `inject` without a port.
 */
export async function buildServer(app: App, options: ServerOptions = {}): Promise<FastifyInstance> {
  const log = (options.log ?? app.log).child(
    { component: 'api' },
    {
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'authorization'],
        censor: '[redacted]',
      },
    },
  );
  const server = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // SSE streams never go idle; close every connection when the server closes.
    forceCloseConnections: true,
    return503OnClosing: true,
    // The router's own rejections (a malformed percent-encoding, an overlong id) come before any
    // route or error handler; they get the same `{ error: { code, message } }` body as the rest.
    frameworkErrors: (error, _request, reply) =>
      void sendError(reply, 'REQUEST_INVALID', error.message),
  });
  installErrorHandling(server);
  // The API speaks JSON only; fastify would otherwise hand text/plain bodies over as strings.
  server.removeContentTypeParser('text/plain');

  const auth = new BearerAuth(
    options.apiKeys ?? app.config.api.apiKeys,
    options.adminKeys ?? app.config.api.adminKeys,
  );
  const webhookToken = options.webhookToken ?? app.config.api.webhookToken;
  const ctx: ApiContext = {
    app,
    auth,
    webhookAuth: BearerAuth.single(webhookToken),
    owners: options.owners ?? new MemoryJobOwners(),
    idempotency: options.idempotency ?? new MemoryIdempotencyStore(),
    metrics: new ApiMetrics(app.jobs, options),
    streams: new Set(),
    maxBatchItems: options.maxBatchItems ?? DEFAULT_MAX_BATCH_ITEMS,
    readiness: options.readiness ?? {},
    consumers: options.consumers ?? (() => []),
    schedules: options.schedules ?? (async () => []),
    workers: options.workers ?? thisProcessAsWorker(app),
    subscribe: options.subscribe,
  };
  server.decorateRequest('principal', '');
  server.decorateRequest('admin', false);
  server.addHook('preClose', async () => {
    for (const stream of ctx.streams) stream.close();
  });
  server.addHook('onClose', async () => ctx.metrics.close());

  // Public: probes, metrics, docs, dashboard shell, and the webhook (which has its own token).
  // biome-ignore lint/nursery/noMisusedPromises: Fastify awaits async plugins (register's contract)
  await server.register(async (scope) => {
    await healthRoutes(scope, ctx);
    await metricsRoutes(scope, ctx);
    await staticRoutes(scope, ctx, MEDIAFLOW_VERSION);
    await s3EventRoutes(scope, ctx);
  });

  // The API: rate limited, then authenticated before the body is read.
  // biome-ignore lint/nursery/noMisusedPromises: Fastify awaits async plugins (register's contract)
  await server.register(async (scope) => {
    if (options.rateLimit !== false)
      await registerRateLimit(scope, auth, options.rateLimit ?? DEFAULT_RATE_LIMIT);
    scope.addHook('preParsing', async (request: FastifyRequest) => {
      if (auth.enabled) {
        const principal = auth.require(request, 'mediaflow');
        request.principal = principal.name;
        request.admin = principal.admin;
      } else {
        // Without keys the API is one local user's: it sees everything, bucket events included.
        assertLoopbackHostHeader(request);
        request.principal = 'local';
        request.admin = true;
      }
    });
    await jobRoutes(scope, ctx);
    await jobEventRoutes(scope, ctx);
    await outputRoutes(scope, ctx);
    await scheduleRoutes(scope, ctx);
    await presetRoutes(scope, ctx);
    await overviewRoutes(scope, ctx);
    await uploadRoutes(scope, ctx);
    await workerRoutes(scope, ctx);
  });

  return server;
}

/**
 * Embedded mode has one worker, the in-process runner of this very process. A server over a
 * BullMQ runner must be given the heartbeat registry instead (`serve` does): the API process
 * runs no tasks, so it has no worker of its own to show.
 */
function thisProcessAsWorker(app: App): () => Promise<WorkerInfo[]> {
  const identity = thisProcess(app.config.worker.concurrency, {
    mediaflow: MEDIAFLOW_VERSION,
    ffmpeg: binarySummary(app.binaries).ffmpeg.version,
  });
  return async () => {
    if (app.config.mode.runner !== 'in-process')
      throw new MediaflowError('QUEUE_UNAVAILABLE', 'This server was built without a worker list');
    return [snapshot(identity, app.runner.runningTasks())];
  };
}

/** Listens on the configured address, refusing a non-loopback one when no API keys are set. */
export async function listen(
  server: FastifyInstance,
  host: string,
  port: number,
  apiKeys: readonly string[],
): Promise<string> {
  assertSafeBinding(host, apiKeys);
  try {
    return await server.listen({ host, port });
  } catch (error) {
    // A port taken or not allowed is the operator's to change: a configuration error (exit 3).
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new MediaflowError(
        'CONFIG_INVALID',
        `Cannot listen on ${host}:${port} (${code}); ` +
          'choose another MEDIAFLOW_HOST/MEDIAFLOW_PORT or --port',
        { cause: error },
      );
    throw error;
  }
}
