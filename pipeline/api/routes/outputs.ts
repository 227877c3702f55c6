import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { contentTypeFor } from '../../storage/content-type.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../http-errors.js';
import { OutputAccess } from '../output-access.js';
import { requireJob } from './jobs.js';

/** Objects up to this size are read into memory; bigger ones go through a temporary file. */
const IN_MEMORY_BYTES = 16 * 1024 * 1024;

/**
 * `GET /v1/jobs/:id/outputs/<key relative to the job's output prefix>`: streams one of the job's
 * outputs from the output bucket (for the dashboard's player and images). Only keys the job
 * produced are served (see OutputAccess). Single byte ranges are honoured, so browsers can seek
 * in MP4s. Responses carry a sandboxing CSP: outputs are media, never pages to run.
 *
 * The storage port reads whole objects (into memory or a file); a ranged streaming read in the
 * port would avoid the temporary file for big MP4s.
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

      if (head.size <= IN_MEMORY_BYTES) {
        const bytes = await ctx.app.store.getBytes(job.spec.outputBucket, key, IN_MEMORY_BYTES);
        return reply.send(bytes.subarray(start, end + 1));
      }
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mediaflow-output-'));
      const file = path.join(dir, 'object');
      const cleanup = () => void fs.promises.rm(dir, { recursive: true, force: true });
      try {
        await ctx.app.store.download(job.spec.outputBucket, key, file, { expectEtag: head.etag });
      } catch (error) {
        cleanup();
        throw error;
      }
      const stream = fs.createReadStream(file, { start, end });
      stream.on('close', cleanup);
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
