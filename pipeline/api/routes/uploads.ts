import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { MediaflowError } from '../../../functions/errors.js';
import { contentTypeFor } from '../../storage/content-type.js';
import { principalOf, type ApiContext } from '../context.js';
import { submitBodySchema } from '../schemas.js';
import { submitBatch } from '../submit-batch.js';
import { ApiError } from '../http-errors.js';

/** Where uploads through the API land in the input bucket. */
export const UPLOAD_PREFIX = 'uploads/';
const NAME = /^[\w][\w .()+-]{0,199}$/;

/**
 * `PUT /v1/uploads/:name`: the dashboard's Upload button. The body streams to a private temp
 * file (never held in memory), is refused past MEDIAFLOW_MAX_INPUT_BYTES, and is then written to
 * the input bucket as `uploads/<name>`. The route then submits the object for the uploader, so
 * the job is theirs (a bucket event alone makes jobs of the `storage` principal, which only
 * admins see); the upload's bucket event finds the same job, since ids derive from the source.
 */
export async function uploadRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { app } = ctx;
  const limit = app.config.limits.maxInputBytes;
  // In a scope of its own: any media type passes here as an unparsed stream, and the other
  // routes keep refusing what is not JSON.
  // biome-ignore lint/nursery/noMisusedPromises: Fastify awaits async plugins (register's contract)
  await server.register(async (scope) => {
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.put<{ Params: { name: string } }>(
      '/v1/uploads/:name',
      { bodyLimit: limit },
      async (request, reply) => {
        const { name } = request.params;
        if (!NAME.test(name))
          throw new MediaflowError(
            'REQUEST_INVALID',
            'Expected a file name (letters, digits, spaces, . _ ( ) + -, at most 200) ' +
              `but received ${JSON.stringify(name.slice(0, 64))}`,
          );
        const declared = Number(request.headers['content-length'] ?? Number.NaN);
        if (declared > limit) throw tooLarge(limit);
        const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mediaflow-upload-'));
        const file = path.join(dir, 'body');
        try {
          let size = 0;
          const counter = new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              size += chunk.length;
              callback(size > limit ? tooLarge(limit) : null, chunk);
            },
          });
          await pipeline(
            request.body as NodeJS.ReadableStream,
            counter,
            fs.createWriteStream(file),
          );
          if (size === 0)
            throw new MediaflowError('REQUEST_INVALID', 'Expected a file but received no bytes');
          const key = UPLOAD_PREFIX + name;
          const bucket = app.config.buckets.input;
          await app.store.upload(bucket, key, file, { contentType: contentTypeFor(name) });
          await submitBatch(submitBodySchema.parse({ items: [{ bucket, key }] }), {
            orchestrator: app.orchestrator,
            store: app.store,
            inputBucket: bucket,
            inputBuckets: app.config.buckets.inputs,
            maxItems: 1,
            onJobId: (id) => ctx.owners.add(id, principalOf(request)),
          });
          return reply.code(201).send({ bucket, key, bytes: size });
        } finally {
          await fs.promises.rm(dir, { recursive: true, force: true });
        }
      },
    );
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError(
    'PAYLOAD_TOO_LARGE',
    `Expected at most ${limit} bytes (MEDIAFLOW_MAX_INPUT_BYTES)`,
  );
}
