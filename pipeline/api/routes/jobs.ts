import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MediaflowError } from '../../../functions/errors.js';
import { JOB_ID_PATTERN } from '../../jobs/job-id.js';
import type { JobRecord } from '../../jobs/job.js';
import type { ApiContext } from '../context.js';
import { principalOf } from '../context.js';
import { ApiError } from '../http-errors.js';
import { fingerprintOf, scopedKey } from '../idempotency.js';
import { jobSummary, jobView } from '../job-view.js';
import { listQuerySchema, parseInput, submitBodySchema, type SubmitBody } from '../schemas.js';
import { submitBatch } from '../submit-batch.js';
import { mayAccess } from '../job-owners.js';
import { resolveDestination } from '../../notify/destination.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The batch-job resource: submit, list, read, cancel, retry. */
export async function jobRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { app } = ctx;

  server.post('/v1/jobs', async (request, reply) => {
    const body = parseInput(submitBodySchema, request.body, 'body');
    if (body.webhookUrl && !ctx.subscribe)
      throw new MediaflowError(
        'REQUEST_INVALID',
        'Expected no webhookUrl: this server was built without per-batch webhooks',
      );
    // Refused before anything is submitted: resolved, and no private destination (SSRF).
    if (body.webhookUrl) await resolveDestination(body.webhookUrl, app.config.notify.allowPrivate);
    const header = request.headers['idempotency-key'];
    if (header === undefined) return reply.code(202).send(await runBatch(ctx, body, request));
    if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header)) {
      throw new MediaflowError(
        'REQUEST_INVALID',
        'Expected 1-255 visible ASCII characters for the Idempotency-Key header',
      );
    }
    return idempotent(ctx, request, reply, header, () => runBatch(ctx, body, request));
  });

  server.get('/v1/jobs', async (request) => {
    const query = parseInput(listQuerySchema, request.query, 'query');
    const page = await visiblePage(ctx, request, query);
    return { jobs: page.jobs.map(jobSummary), nextCursor: page.nextCursor };
  });

  server.get<{ Params: { id: string } }>('/v1/jobs/:id', async (request) =>
    jobView(await requireJob(ctx, request.params.id, request)),
  );

  server.delete<{ Params: { id: string } }>('/v1/jobs/:id', async (request) => {
    await requireJob(ctx, request.params.id, request);
    return jobView(await app.orchestrator.cancel(request.params.id));
  });

  server.post<{ Params: { id: string } }>('/v1/jobs/:id/retry', async (request, reply) => {
    const job = await requireJob(ctx, request.params.id, request);
    if (job.state !== 'failed' && job.state !== 'cancelled')
      throw new ApiError(
        'JOB_STATE_CONFLICT',
        `Job ${job.spec.id} is ${job.state}; only failed or cancelled jobs can be retried`,
      );
    return reply.code(202).send(jobView(await app.orchestrator.retry(job.spec.id)));
  });
}

/**
 * A job by id from the URL that the caller may see; 404 for ids that cannot exist, unknown ones,
 * and other principals' jobs alike (a 403 would confirm that the job exists).
 */
export async function requireJob(
  ctx: ApiContext,
  id: string,
  request: FastifyRequest,
): Promise<JobRecord> {
  const job = JOB_ID_PATTERN.test(id) ? await ctx.app.jobs.get(id) : null;
  if (!job || !(await mayAccess(ctx.owners, job.spec.id, callerOf(request))))
    throw new MediaflowError('JOB_NOT_FOUND', `No job ${JSON.stringify(id.slice(0, 64))}`);
  return job;
}

export function callerOf(request: FastifyRequest): { name: string; admin: boolean } {
  return { name: principalOf(request), admin: request.admin };
}

/**
 * Store pages read per listing before answering with what was found: a non-admin's listing skips
 * other principals' jobs, and a search's store pages may be short (see JobListQuery.q).
 */
const MAX_PAGES_SCANNED = 20;

async function visiblePage(
  ctx: ApiContext,
  request: FastifyRequest,
  query: {
    limit: number;
    state?: JobRecord['state'] | undefined;
    q?: string | undefined;
    cursor?: string | undefined;
  },
): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
  const read = (cursor: string | undefined, limit: number) =>
    ctx.app.jobs.list({
      limit,
      ...(query.state ? { state: query.state } : {}),
      ...(query.q ? { q: query.q } : {}),
      ...(cursor ? { cursor } : {}),
    });
  const caller = callerOf(request);
  const jobs: JobRecord[] = [];
  let cursor = query.cursor;
  // Each read asks only for the jobs still missing, so no page is cut short and the store's
  // cursor always resumes right after the last job looked at.
  for (let pages = 0; pages < MAX_PAGES_SCANNED && jobs.length < query.limit; pages++) {
    const page = await read(cursor, query.limit - jobs.length);
    for (const job of page.jobs)
      if (request.admin || (await mayAccess(ctx.owners, job.spec.id, caller))) jobs.push(job);
    cursor = page.nextCursor ?? undefined;
    if (!cursor) break;
  }
  return { jobs, nextCursor: cursor ?? null };
}

async function runBatch(ctx: ApiContext, body: SubmitBody, request: FastifyRequest) {
  const result = await submitBatch(body, {
    orchestrator: ctx.app.orchestrator,
    store: ctx.app.store,
    inputBucket: ctx.app.config.buckets.input,
    inputBuckets: ctx.app.config.buckets.inputs,
    maxItems: ctx.maxBatchItems,
    onJobId: (id) => ctx.owners.add(id, principalOf(request)),
  });
  if (body.webhookUrl && ctx.subscribe && result.jobIds.length)
    await ctx.subscribe(result.jobIds, body.webhookUrl, principalOf(request));
  return result;
}

/**
 * Runs `work` once per (caller, Idempotency-Key): a retry with the same body gets the first
 * answer back (marked `Idempotent-Replayed: true`); the same key with another body is a 409.
 * A failed attempt is forgotten, so the client's retry runs the batch again.
 */
async function idempotent(
  ctx: ApiContext,
  request: FastifyRequest,
  reply: FastifyReply,
  header: string,
  work: () => Promise<unknown>,
) {
  const key = scopedKey(principalOf(request), header);
  const fingerprint = fingerprintOf(request.body);
  const start = await ctx.idempotency.begin(key, fingerprint);
  switch (start.outcome) {
    case 'replay':
      return reply
        .code(start.response.status)
        .header('idempotent-replayed', 'true')
        .send(start.response.body);
    case 'conflict':
      throw new ApiError(
        'IDEMPOTENCY_CONFLICT',
        'This Idempotency-Key was already used with a different request body',
      );
    case 'in-progress':
      throw new ApiError(
        'IDEMPOTENCY_CONFLICT',
        'A request with this Idempotency-Key is still being processed; retry shortly',
        { 'retry-after': '1' },
      );
  }
  let body: unknown;
  try {
    body = await work();
  } catch (error) {
    await ctx.idempotency.abandon(key, fingerprint).catch(() => {});
    throw error;
  }
  await ctx.idempotency.complete(key, fingerprint, { status: 202, body });
  return reply.code(202).send(body);
}
