import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  jobPageSchema,
  jobViewSchema,
  submitBodySchema,
  submitResponseSchema,
  errorBodySchema,
} from '../../pipeline/api/schemas.js';
import { API_KEY, auth, startApiApp, waitForEnd, waitForJob } from '../helpers/api-server.js';
import { listKeys } from '../helpers/embedded-app.js';

/**
 * The jobs resource over fastify's inject (no port): submission in both shapes, validation,
 * batch limits, idempotency, reading, listing, cancelling, outputs. Jobs run the media-free
 * copy workflow on a real embedded S3 store.
 */
describe('jobs API', () => {
  let ctx: Awaited<ReturnType<typeof startApiApp>>;
  let input: string;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    ctx.server.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth(), ...headers },
      payload: body as object,
    });
  const get = (url: string, headers: Record<string, string> = auth()) =>
    ctx.server.inject({ method: 'GET', url, headers });
  const errorOf = (res: { json(): unknown }) => errorBodySchema.parse(res.json()).error;

  beforeAll(async () => {
    ctx = await startApiApp({ maxBatchItems: 3 });
    input = ctx.app.config.buckets.input;
  });
  afterAll(() => ctx.close());

  describe('bad requests', () => {
    it('answers bad JSON with 400 REQUEST_INVALID', async () => {
      const res = await ctx.server.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '{"items": [',
      });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res)).toMatchObject({
        code: 'REQUEST_INVALID',
        message: expect.stringMatching(/^Expected a JSON body but received invalid JSON/),
      });
    });

    it('answers a body that is not JSON with 415', async () => {
      const res = await ctx.server.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { ...auth(), 'content-type': 'text/plain' },
        payload: 'hello',
      });
      expect(res.statusCode).toBe(415);
      expect(errorOf(res).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('names each missing or wrong field with its path and what was expected', async () => {
      const missing = await post({});
      expect(missing.statusCode).toBe(400);
      expect(errorOf(missing).issues).toEqual([
        {
          path: 'body',
          message: 'Expected either items or prefix (not both) for body but received {}',
        },
      ]);

      const wrong = await post({
        items: [{ bucket: input }, { bucket: 'X', key: 'a' }],
        preset: 7,
      });
      expect(wrong.statusCode).toBe(400);
      expect(errorOf(wrong).issues).toEqual([
        {
          path: 'body.items.0.key',
          message: 'Expected a string for body.items.0.key but received undefined',
        },
        {
          path: 'body.items.1.bucket',
          message: 'Expected an S3 bucket name for body.items.1.bucket but received "X"',
        },
        { path: 'body.preset', message: 'Expected a string for body.preset but received 7' },
      ]);
    });

    it(
      'answers a key or prefix with an unpaired ' + 'surrogate with 400, not a retryable 503',
      async () => {
        for (const body of [
          { items: [{ bucket: input, key: 'a\ud800.jpg' }] },
          { prefix: 'x\udc00/' },
        ]) {
          const res = await post(body);
          expect(res.statusCode, JSON.stringify(body)).toBe(400);
          expect(errorOf(res)).toMatchObject({
            code: 'REQUEST_INVALID',
            message: expect.stringMatching(
              new RegExp(
                String.raw`^Expected well-formed Unicode \(no unpaired surrogates\) ` +
                  String.raw`for body\.(items\.0\.key|prefix) but received`,
              ),
            ),
          });
        }
        // A surrogate pair (an emoji) is well-formed.
        expect(
          (await post({ items: [{ bucket: input, key: 'smile-\u{1F600}.jpg' }] })).statusCode,
        ).toBe(202);
      },
    );

    it('rejects unknown keys and options, and a webhookUrl without a notifier', async () => {
      const extra = await post({ items: [{ bucket: input, key: 'a.jpg' }], colour: 'red' });
      expect(errorOf(extra).issues).toEqual([
        { path: 'body', message: 'Expected only known keys for body but received colour' },
      ]);
      const option = await post({
        items: [{ bucket: input, key: 'a.jpg' }],
        options: { ladder: [720] },
      });
      expect(errorOf(option).issues).toEqual([
        {
          path: 'body.options',
          message: 'Expected only known keys for body.options but received ladder',
        },
      ]);
      const hook = await post({
        items: [{ bucket: input, key: 'a.jpg' }],
        webhookUrl: 'https://example.com/hook',
      });
      expect(hook.statusCode).toBe(400);
      expect(errorOf(hook).message).toMatch(/without per-batch webhooks/);
    });

    it('answers an unknown preset with 400 PRESET_UNKNOWN and creates nothing', async () => {
      await ctx.app.store.putBytes(input, 'preset.jpg', 'x');
      const res = await post({ items: [{ bucket: input, key: 'preset.jpg' }], preset: 'nope' });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res)).toMatchObject({
        code: 'PRESET_UNKNOWN',
        message: expect.stringContaining('expected one of video'),
      });
      expect(
        (await ctx.app.jobs.list({ limit: 100 })).jobs.filter(
          (j) => j.spec.source.key === 'preset.jpg',
        ),
      ).toEqual([]);
    });

    it('answers a batch over the limit with 413, for items and for a prefix', async () => {
      const items = ['1', '2', '3', '4'].map((k) => ({ bucket: input, key: `big/${k}.jpg` }));
      const res = await post({ items });
      expect(res.statusCode).toBe(413);
      expect(errorOf(res)).toEqual({
        code: 'PAYLOAD_TOO_LARGE',
        message:
          'Expected at most 3 items in a batch but received 4; split it into several requests',
      });
      for (const { key } of items) await ctx.app.store.putBytes(input, key, 'x');
      const prefix = await post({ prefix: 'big/' });
      expect(prefix.statusCode).toBe(413);
      expect(
        (await ctx.app.jobs.list({ limit: 100 })).jobs.filter((j) =>
          j.spec.source.key.startsWith('big/'),
        ),
      ).toEqual([]);
    });

    it(
      'answers unknown and malformed job ids with 404 ' + 'JOB_NOT_FOUND on every job route',
      async () => {
        const unknown = 'j' + '0'.repeat(24);
        for (const [method, url] of [
          ['GET', `/v1/jobs/${unknown}`],
          ['DELETE', `/v1/jobs/${unknown}`],
          ['POST', `/v1/jobs/${unknown}/retry`],
          ['GET', `/v1/jobs/${unknown}/events`],
          ['GET', `/v1/jobs/${unknown}/outputs/a.txt`],
          ['GET', '/v1/jobs/not-a-job'],
        ] as const) {
          const res = await ctx.server.inject({ method, url, headers: auth() });
          expect(res.statusCode, `${method} ${url}`).toBe(404);
          expect(errorOf(res).code, `${method} ${url}`).toBe('JOB_NOT_FOUND');
        }
        expect(errorOf(await get('/v1/nothing-here')).code).toBe('NOT_FOUND');
      },
    );

    it(
      'answers URLs the router rejects (bad percent-encoding, an overlong id) in the error ' +
        'envelope',
      async () => {
        for (const url of ['/v1/jobs/%E0%A4%A', `/v1/jobs/${'x'.repeat(500)}`]) {
          const res = await get(url);
          expect(res.statusCode, url).toBe(400);
          expect(errorOf(res).code, url).toBe('REQUEST_INVALID');
        }
      },
    );

    it('validates list queries', async () => {
      const res = await get('/v1/jobs?state=done&limit=0');
      expect(res.statusCode).toBe(400);
      expect(errorOf(res).issues?.map((i) => i.path)).toEqual(['query.state', 'query.limit']);
    });
  });

  describe('submitting and reading jobs', () => {
    it(
      'creates one job per item and reports each, then shows state, per-task progress and ' +
        'outputs',
      async () => {
        await ctx.app.store.putBytes(input, 'photos/one.jpg', 'one');
        await ctx.app.store.putBytes(input, 'photos/two.jpg', 'two');
        const res = await post({
          items: [
            { bucket: input, key: 'photos/one.jpg' },
            { bucket: input, key: 'photos/two.jpg' },
            { bucket: input, key: 'photos/none.jpg' },
          ],
        });
        expect(res.statusCode).toBe(202);
        const body = submitResponseSchema.parse(res.json());
        expect(body.items.map((i) => [i.key, i.status, i.reason])).toEqual([
          ['photos/one.jpg', 'created', undefined],
          ['photos/two.jpg', 'created', undefined],
          ['photos/none.jpg', 'ignored', 'missing'],
        ]);
        expect(body.jobIds).toHaveLength(2);

        const done = await waitForEnd(ctx.app, body.jobIds[0]!);
        expect(done.state).toBe('succeeded');
        const view = jobViewSchema.parse((await get(`/v1/jobs/${body.jobIds[0]}`)).json());
        expect(view).toMatchObject({
          id: body.jobIds[0],
          state: 'succeeded',
          progress: 1,
          preset: 'image',
          source: { bucket: input, key: 'photos/one.jpg' },
        });
        expect(view.tasks.map((t) => [t.id, t.state, t.progress])).toEqual([
          ['inspect', 'succeeded', 1],
          ['part-0', 'succeeded', 1],
          ['part-1', 'succeeded', 1],
          ['part-2', 'succeeded', 1],
        ]);
        expect(view.outputs.map((o) => o.url)).toEqual(
          [0, 1, 2].map((i) => `/v1/jobs/${view.id}/outputs/part-${i}.txt`),
        );
        expect(view.manifestUrl).toBe(`/v1/jobs/${view.id}/outputs/manifest.json`);

        // Outputs stream from the output bucket, with ranges; only the job's own keys are served.
        const part = await get(view.outputs[1]!.url);
        expect(part.statusCode).toBe(200);
        expect(part.body).toBe('1:one');
        const ranged = await ctx.server.inject({
          method: 'GET',
          url: view.outputs[1]!.url,
          headers: { ...auth(), range: 'bytes=2-' },
        });
        expect([ranged.statusCode, ranged.body, ranged.headers['content-range']]).toEqual([
          206,
          'one',
          'bytes 2-4/5',
        ]);
        expect(JSON.parse((await get(view.manifestUrl!)).body)).toMatchObject({ jobId: view.id });
        const other = body.jobIds[1]!;
        await waitForEnd(ctx.app, other);
        // The other job's output, reached from this job's folder by '..', is not served.
        const sideways = `../../../two.jpg/image/${other}/part-0.txt`;
        expect((await get(`/v1/jobs/${view.id}/outputs/${sideways}`)).statusCode).toBe(404);
        expect(
          (await get(`/v1/jobs/${view.id}/outputs/${sideways.replaceAll('..', '%2E%2E')}`))
            .statusCode,
        ).toBe(404);
        expect((await get(`/v1/jobs/${view.id}/outputs/part-9.txt`)).statusCode).toBe(404);
        expect((await get(view.outputs[1]!.url, {})).statusCode).toBe(401);
      },
    );

    it('submits every object under a prefix of the input bucket', async () => {
      for (const key of ['batch/a.jpg', 'batch/b.jpg', 'batch/sub/c.jpg'])
        await ctx.app.store.putBytes(input, key, key);
      const res = await post({ prefix: 'batch/' });
      expect(res.statusCode).toBe(202);
      const body = submitResponseSchema.parse(res.json());
      expect(body.items.map((i) => [i.bucket, i.key, i.status])).toEqual([
        [input, 'batch/a.jpg', 'created'],
        [input, 'batch/b.jpg', 'created'],
        [input, 'batch/sub/c.jpg', 'created'],
      ]);
      await Promise.all(body.jobIds.map((id) => waitForEnd(ctx.app, id)));
      // The same batch again finds the same jobs.
      const again = submitResponseSchema.parse(
        (await post({ prefix: 'batch/', bucket: input })).json(),
      );
      expect(again.jobIds).toEqual(body.jobIds);
      expect(again.items.every((i) => i.status === 'existing')).toBe(true);
    });

    it('lists jobs newest first, filtered by state, page by page', async () => {
      const first = jobPageSchema.parse((await get('/v1/jobs?state=succeeded&limit=2')).json());
      expect(first.jobs).toHaveLength(2);
      expect(first.jobs.every((j) => j.state === 'succeeded')).toBe(true);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = jobPageSchema.parse(
        (await get(`/v1/jobs?state=succeeded&limit=2&cursor=${first.nextCursor}`)).json(),
      );
      expect(second.jobs.map((j) => j.id)).not.toContain(first.jobs[0]!.id);
      const all = jobPageSchema.parse((await get('/v1/jobs?limit=200')).json());
      const ids = all.jobs.map((j) => j.id);
      expect(ids.indexOf(first.jobs[0]!.id)).toBeLessThan(ids.indexOf(second.jobs[0]!.id));
      expect(
        jobPageSchema
          .parse((await get('/v1/jobs?state=cancelled')).json())
          .jobs.every((j) => j.state === 'cancelled'),
      ).toBe(true);
    });
  });

  describe('Idempotency-Key', () => {
    it(
      'returns the first answer to a retry with the ' + 'same body, and 409 for another body',
      async () => {
        await ctx.app.store.putBytes(input, 'idem/a.jpg', 'a');
        await ctx.app.store.putBytes(input, 'idem/b.jpg', 'b');
        const body = { items: [{ bucket: input, key: 'idem/a.jpg' }] };
        const first = await post(body, { 'idempotency-key': 'batch-1' });
        expect(first.statusCode).toBe(202);
        expect(first.json().items[0].status).toBe('created');
        // Keys in another order are the same body.
        const replay = await post(
          { items: [{ key: 'idem/a.jpg', bucket: input }] },
          { 'idempotency-key': 'batch-1' },
        );
        expect(replay.statusCode).toBe(202);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.json()).toEqual(first.json());
        // Without the key the same body is a new request and finds the job as existing.
        expect((await post(body)).json().items[0].status).toBe('existing');

        const conflict = await post(
          { items: [{ bucket: input, key: 'idem/b.jpg' }] },
          { 'idempotency-key': 'batch-1' },
        );
        expect(conflict.statusCode).toBe(409);
        expect(errorOf(conflict).code).toBe('IDEMPOTENCY_CONFLICT');
        expect(
          (await ctx.app.jobs.list({ limit: 200 })).jobs.some(
            (j) => j.spec.source.key === 'idem/b.jpg',
          ),
        ).toBe(false);
      },
    );

    it('forgets the key after a failed request, so the retry runs', async () => {
      const bad = await post(
        { items: [{ bucket: input, key: 'idem/a.jpg' }], preset: 'nope' },
        { 'idempotency-key': 'batch-2' },
      );
      expect(bad.statusCode).toBe(400);
      const good = await post(
        { items: [{ bucket: input, key: 'idem/a.jpg' }], preset: 'nope' },
        { 'idempotency-key': 'batch-2' },
      );
      expect(good.statusCode).toBe(400);
      expect(good.headers['idempotent-replayed']).toBeUndefined();
    });

    it('rejects a malformed key', async () => {
      const res = await post(
        { items: [{ bucket: input, key: 'idem/a.jpg' }] },
        { 'idempotency-key': 'has space' },
      );
      expect(res.statusCode).toBe(400);
    });
  });

  describe('cancel and retry', () => {
    it('cancels a running job: its tasks stop and nothing it wrote is left', async () => {
      await ctx.app.store.putBytes(input, 'slow.jpg', 'SLOW 5000');
      const { jobIds } = (await post({ items: [{ bucket: input, key: 'slow.jpg' }] })).json();
      await waitForJob(ctx.app, jobIds[0], (j) => j.tasks['part-0']?.state === 'running');
      const res = await ctx.server.inject({
        method: 'DELETE',
        url: `/v1/jobs/${jobIds[0]}`,
        headers: auth(),
      });
      expect(res.statusCode).toBe(200);
      expect(jobViewSchema.parse(res.json())).toMatchObject({
        state: 'cancelled',
        error: { code: 'CANCELLED' },
      });
      expect(
        await listKeys(
          ctx.app,
          ctx.app.config.buckets.output,
          `${ctx.app.config.buckets.input}/slow.jpg/`,
        ),
      ).toEqual([]);
      // Cancelling again changes nothing.
      expect(
        (
          await ctx.server.inject({
            method: 'DELETE',
            url: `/v1/jobs/${jobIds[0]}`,
            headers: auth(),
          })
        ).json().state,
      ).toBe('cancelled');
    });

    it('refuses to retry a job that did not fail', async () => {
      const [succeeded] = (await ctx.app.jobs.list({ state: 'succeeded', limit: 1 })).jobs;
      const res = await ctx.server.inject({
        method: 'POST',
        url: `/v1/jobs/${succeeded!.spec.id}/retry`,
        headers: auth(),
      });
      expect(res.statusCode).toBe(409);
      expect(errorOf(res).code).toBe('JOB_STATE_CONFLICT');
    });
  });
});

/** The OpenAPI document states the same body schema the server validates with. */
describe('OpenAPI document', () => {
  it('is generated from the zod schemas', async () => {
    const ctx = await startApiApp();
    try {
      const doc = (await ctx.server.inject({ url: '/openapi.json' })).json();
      expect(doc.openapi).toBe('3.1.0');
      const { $schema: _s, ...expected } = z.toJSONSchema(submitBodySchema, {
        io: 'input',
        unrepresentable: 'any',
      }) as Record<string, unknown>;
      expect(doc.paths['/v1/jobs'].post.requestBody.content['application/json'].schema).toEqual(
        expected,
      );
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/v1/jobs',
          '/v1/jobs/{id}',
          '/v1/jobs/{id}/retry',
          '/v1/jobs/{id}/events',
          '/v1/events/s3',
          '/healthz',
          '/readyz',
          '/metrics',
        ]),
      );
      const docs = await ctx.server.inject({ url: '/docs' });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers['content-type']).toMatch(/text\/html/);
      expect(docs.body).toContain('/assets/docs.js');
      expect(API_KEY).not.toBe('');
    } finally {
      await ctx.close();
    }
  });
});
