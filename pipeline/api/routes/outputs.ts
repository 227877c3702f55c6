import type { FastifyInstance } from 'fastify';
import { contentTypeFor } from '../../storage/content-type.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../http-errors.js';
import { OutputAccess } from '../output-access.js';
import { requireJob } from './jobs.js';

/**
 * `GET /v1/jobs/:id/outputs/<key relative to the job's output prefix>`: streams one of the job's
 * outputs from the output bucket (for the dashboard's player and images). Only keys the job
 * produced are served (see OutputAccess). Single byte ranges are honoured, so browsers can seek
 * in MP4s. Responses carry a sandboxing CSP: outputs are media, never pages to run.
 * Bodies stream from storage with S3 Range requests (see ObjectStore.getStream).
 */
export async function outputRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  const access = new OutputAccess(ctx.app.store);

  server.get<{ Params: { id: string; '*': string } }>(
    '/v1/jobs/:id/outputs/*',
    async (request, reply) => {
      const job = await requireJob(ctx, request.params.id, request);
      const relative = request.params['*'];
      const key = job.spec.outputPrefix + relative;
      if (!relative || !(await access.allowed(job)).has(key))
        throw new ApiError(
          'NOT_FOUND',
          `Job ${job.spec.id} has no output ${JSON.stringify(relative.slice(0, 200))}`,
        );
      const head = await ctx.app.store.head(job.spec.outputBucket, key);
      if (!head)
        throw new ApiError(
          'NOT_FOUND',
          `Output ${JSON.stringify(relative)} is listed but missing from storage`,
        );

      const range = parseRange(request.headers.range, head.size);
      const recorded = job.outputs.find((o) => o.key === key)?.contentType;
      reply
        .header('content-type', recorded ?? head.contentType ?? contentTypeFor(key))
        .header('accept-ranges', 'bytes')
        .header('etag', `"${head.etag}"`)
        // A job's outputs never change under the same id; the key in the URL is the version.
        .header('cache-control', 'private, max-age=3600')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('x-content-type-options', 'nosniff');
      if (range)
        reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${head.size}`);
      const start = range?.start ?? 0;
      const end = range?.end ?? head.size - 1;
      reply.header('content-length', String(Math.max(0, end - start + 1)));
      if (request.method === 'HEAD') return reply.send();

      // Straight from storage, ranged there: constant memory and no temporary copy, even for
      // a 1-byte range of a multi-gigabyte MP4 or many slow readers at once.
      if (head.size === 0) return reply.send(Buffer.alloc(0));
      const stream = await ctx.app.store.getStream(job.spec.outputBucket, key, {
        range: { start, end },
        expectEtag: head.etag,
      });
      return reply.send(stream);
    },
  );
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; undefined for none or several (sent whole). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (!match[1] && !match[2])) return undefined;
  let start: number;
  let end: number;
  if (!match[1]) {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  }
  if (start > end || start >= size)
    throw new ApiError(
      'RANGE_NOT_SATISFIABLE',
      `Range ${header} is outside the object (${size} bytes)`,
      { 'content-range': `bytes */${size}` },
    );
  return { start, end };
}
