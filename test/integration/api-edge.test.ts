import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { assertSafeBinding } from '../../pipeline/api/auth.js';
import { buildServer, listen } from '../../pipeline/api/server.js';
import { healthSchema } from '../../pipeline/api/schemas.js';
import { API_KEY, WEBHOOK_TOKEN, auth, startApiApp, waitForEnd } from '../helpers/api-server.js';

/** The API's edges: auth, rate limit, the storage webhook, probes, metrics and logs. */
describe('API edges', () => {
  let ctx: Awaited<ReturnType<typeof startApiApp>>;
  let input: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    // A logger that keeps every line, to prove no token is ever written.
    const sink = new Writable({
      write: (chunk, _enc, done) => {
        logLines.push(String(chunk));
        done();
      },
    });
    ctx = await startApiApp({ log: pino({ level: 'trace' }, sink) });
    input = ctx.app.config.buckets.input;
  });
  afterAll(() => ctx.close());

  describe('auth', () => {
    it('answers 401 without a key and with a wrong one, and serves with a right one', async () => {
      const none = await ctx.server.inject({ url: '/v1/jobs' });
      expect(none.statusCode).toBe(401);
      expect(none.json().error).toEqual({
        code: 'UNAUTHORIZED',
        message: 'A bearer token is required (Authorization: Bearer <token>)',
      });
      expect(none.headers['www-authenticate']).toBe('Bearer realm="mediaflow"');
      const wrong = await ctx.server.inject({ url: '/v1/jobs', headers: auth('nope-not-a-key') });
      expect([wrong.statusCode, wrong.json().error.message]).toEqual([
        401,
        'The bearer token is not valid',
      ]);
      // The webhook token is not an API key, and an API key is not a webhook token.
      expect(
        (await ctx.server.inject({ url: '/v1/jobs', headers: auth(WEBHOOK_TOKEN) })).statusCode,
      ).toBe(401);
      expect(
        (
          await ctx.server.inject({
            url: '/v1/jobs',
            headers: { authorization: `Basic ${API_KEY}` },
          })
        ).statusCode,
      ).toBe(401);
      expect((await ctx.server.inject({ url: '/v1/jobs', headers: auth() })).statusCode).toBe(200);
      // Probes, metrics, docs and the dashboard shell need no key.
      for (const url of [
        '/healthz',
        '/readyz',
        '/metrics',
        '/openapi.json',
        '/docs',
        '/',
        '/assets/app.js',
        '/assets/vendor/hls.mjs',
      ]) {
        expect((await ctx.server.inject({ url })).statusCode, url).toBe(200);
      }
    });

    it('never writes a token to the logs', async () => {
      await ctx.server.inject({
        method: 'POST',
        url: '/v1/events/s3',
        headers: auth(WEBHOOK_TOKEN),
        payload: { Records: 'no' },
      });
      await ctx.server.inject({ url: '/v1/jobs/' + 'j'.padEnd(25, '0'), headers: auth() });
      await ctx.server.inject({ url: '/v1/jobs', headers: auth('wrong-token-in-a-log?') });
      const all = logLines.join('');
      expect(all).toContain('"url":"/v1/jobs"');
      for (const secret of [API_KEY, WEBHOOK_TOKEN, 'wrong-token-in-a-log?'])
        expect(all).not.toContain(secret);
    });

    it(
      'refuses to listen beyond loopback without keys, and ' +
        'serves only loopback Host names then',
      async () => {
        expect(() => assertSafeBinding('0.0.0.0', [])).toThrow(/MEDIAFLOW_API_KEYS is empty/);
        expect(() => assertSafeBinding('::', [])).toThrow(/loopback only/);
        expect(() => assertSafeBinding('0.0.0.0', ['k'])).not.toThrow();
        for (const host of ['127.0.0.1', '::1', 'localhost', '127.0.0.2'])
          expect(() => assertSafeBinding(host, [])).not.toThrow();

        const open = await buildServer(ctx.app, { apiKeys: [], rateLimit: false });
        try {
          await expect(listen(open, '0.0.0.0', 0, [])).rejects.toMatchObject({
            code: 'CONFIG_INVALID',
          });
          expect(
            (await open.inject({ url: '/v1/jobs', headers: { host: '127.0.0.1:8080' } }))
              .statusCode,
          ).toBe(200);
          expect(
            (await open.inject({ url: '/v1/jobs', headers: { host: 'localhost' } })).statusCode,
          ).toBe(200);
          const rebound = await open.inject({
            url: '/v1/jobs',
            headers: { host: 'attacker.example:8080' },
          });
          expect([rebound.statusCode, rebound.json().error.code]).toEqual([403, 'FORBIDDEN']);
        } finally {
          await open.close();
        }
      },
    );
  });

  it('answers 429 with Retry-After past the rate limit, counting wrong keys too', async () => {
    const limited = await buildServer(ctx.app, {
      apiKeys: [API_KEY],
      rateLimit: { max: 3, timeWindowMs: 60_000 },
    });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++)
        codes.push((await limited.inject({ url: '/v1/jobs', headers: auth() })).statusCode);
      const over = await limited.inject({ url: '/v1/jobs', headers: auth() });
      expect(codes).toEqual([200, 200, 200]);
      expect(over.statusCode).toBe(429);
      expect(over.json().error.code).toBe('RATE_LIMITED');
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
      // Wrong keys are counted per client address, so guessing is limited as well.
      const guesses: number[] = [];
      for (let i = 0; i < 4; i++)
        guesses.push(
          (await limited.inject({ url: '/v1/jobs', headers: auth(`guess-${i}`) })).statusCode,
        );
      expect(guesses).toEqual([401, 401, 401, 429]);
      // Probes are never limited.
      expect((await limited.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  describe('storage webhook', () => {
    const notification = (key: string, eventName = 's3:ObjectCreated:Put', bucket = input) => ({
      EventName: eventName,
      Key: `${bucket}/${key}`,
      Records: [
        {
          eventVersion: '2.0',
          eventSource: 'minio:s3',
          eventName,
          s3: { bucket: { name: bucket }, object: { key, size: 1 } },
        },
      ],
    });
    const hook = (body: unknown, token = WEBHOOK_TOKEN) =>
      ctx.server.inject({
        method: 'POST',
        url: '/v1/events/s3',
        headers: auth(token),
        payload: body as object,
      });

    it('answers HEAD with 200 without a token (MinIO checks targets that way)', async () => {
      const res = await ctx.server.inject({ method: 'HEAD', url: '/v1/events/s3' });
      expect(res.statusCode).toBe(200);
    });

    it('needs the webhook token', async () => {
      expect(
        (
          await ctx.server.inject({
            method: 'POST',
            url: '/v1/events/s3',
            payload: notification('x.jpg'),
          })
        ).statusCode,
      ).toBe(401);
      expect((await hook(notification('x.jpg'), API_KEY)).statusCode).toBe(401);
      const off = await buildServer(ctx.app, { apiKeys: [API_KEY], rateLimit: false });
      try {
        const res = await off.inject({
          method: 'POST',
          url: '/v1/events/s3',
          headers: auth(WEBHOOK_TOKEN),
          payload: notification('x.jpg'),
        });
        expect([res.statusCode, res.json().error.message]).toEqual([
          401,
          'The storage webhook is off: set MEDIAFLOW_WEBHOOK_TOKEN to turn it on',
        ]);
      } finally {
        await off.close();
      }
    });

    it(
      'decodes AWS-encoded keys (+ for spaces, %XX) ' + 'and MinIO-encoded ones (%2F for /)',
      async () => {
        await ctx.app.store.putBytes(input, 'uploads/my cat (1).jpg', 'aws');
        await ctx.app.store.putBytes(input, 'uploads/minio dog.jpg', 'minio');
        const aws = await hook(notification('uploads/my+cat+%281%29.jpg'));
        expect(aws.statusCode).toBe(200);
        expect(aws.json().events).toEqual([
          expect.objectContaining({
            type: 'created',
            key: 'uploads/my cat (1).jpg',
            status: 'created',
            jobId: expect.stringMatching(/^j/),
          }),
        ]);
        const minio = await hook(notification('uploads%2Fminio+dog.jpg'));
        expect(minio.json().events).toEqual([
          expect.objectContaining({ key: 'uploads/minio dog.jpg', status: 'created' }),
        ]);
        const job = await waitForEnd(ctx.app, minio.json().events[0].jobId);
        expect([job.state, job.spec.source.key]).toEqual(['succeeded', 'uploads/minio dog.jpg']);
        // A duplicate delivery finds the same job.
        expect(
          (await hook(notification('uploads%2Fminio+dog.jpg'))).json().events[0],
        ).toMatchObject({
          status: 'existing',
          jobId: job.spec.id,
        });
      },
    );

    it(
      'ignores removals, test events and other buckets; rejects malformed events with 400 ' +
        'EVENT_INVALID',
      async () => {
        expect(
          (await hook(notification('uploads/x.jpg', 's3:ObjectRemoved:Delete'))).json().events[0],
        ).toMatchObject({ type: 'removed', status: 'ignored', reason: 'not-a-creation' });
        expect((await hook({ Event: 's3:TestEvent' })).json().events[0]).toMatchObject({
          type: 'test',
          status: 'ignored',
        });
        expect(
          (await hook(notification('x.jpg', 's3:ObjectCreated:Put', 'elsewhere'))).json().events[0],
        ).toMatchObject({ status: 'ignored', reason: 'not-the-input-bucket' });
        for (const bad of [{ Records: 'no' }, { Records: [{ eventName: 'x' }] }, [1, 2]]) {
          const res = await hook(bad);
          expect(res.statusCode).toBe(400);
          expect(res.json().error.code).toBe('EVENT_INVALID');
        }
        const badKey = await hook(notification('bad%E0%A4%A.jpg'));
        expect([badKey.statusCode, badKey.json().error.code]).toEqual([400, 'EVENT_INVALID']);
      },
    );
  });

  describe('probes and metrics', () => {
    it('reports jobs by state, task durations and queue depth', async () => {
      await ctx.app.store.putBytes(input, 'metrics.jpg', 'm');
      const { jobIds } = (
        await ctx.server.inject({
          method: 'POST',
          url: '/v1/jobs',
          headers: auth(),
          payload: { items: [{ bucket: input, key: 'metrics.jpg' }] },
        })
      ).json();
      await waitForEnd(ctx.app, jobIds[0]);
      const res = await ctx.server.inject({ url: '/metrics' });
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const value = (line: RegExp) =>
        Number(
          res.body
            .split('\n')
            .find((l) => line.test(l))
            ?.split(' ')
            .pop(),
        );
      const succeeded = (await ctx.app.jobs.list({ state: 'succeeded', limit: 200 })).jobs.length;
      expect(value(/^mediaflow_jobs\{state="succeeded"\}/)).toBe(succeeded);
      expect(
        value(/^mediaflow_task_duration_seconds_count\{kind="part",state="succeeded"\}/),
      ).toBeGreaterThanOrEqual(3);
      expect(value(/^mediaflow_queue_depth /)).toBe(0);
      expect(res.body).toContain('# TYPE mediaflow_realtime_factor histogram');
    });

    it('answers /readyz 503 when a check fails, naming it without its error text', async () => {
      const ready = await ctx.server.inject({ url: '/readyz' });
      expect(healthSchema.parse(ready.json())).toEqual({
        status: 'ok',
        checks: { storage: { ok: true } },
      });
      // A caller with a key also sees which ffmpeg/ffprobe run, and where they came from.
      const detailed = healthSchema.parse(
        (await ctx.server.inject({ url: '/readyz', headers: auth() })).json(),
      );
      expect(detailed.details?.mediaTools.ffmpeg).toEqual({
        version: expect.stringMatching(/ \(libavcodec \d+\.\d+\.\d+\)$/),
        source: ctx.app.binaries.sources.ffmpeg,
        path: ctx.app.binaries.ffmpeg,
      });
      expect(detailed.details?.capabilities.filters).toMatchObject({
        zscale: ctx.app.capabilities.filters.has('zscale'),
        libvmaf: ctx.app.capabilities.filters.has('libvmaf'),
      });
      const withRedis = await buildServer(ctx.app, {
        apiKeys: [API_KEY],
        rateLimit: false,
        readiness: {
          redis: async () => {
            throw new Error('connect ECONNREFUSED 127.0.0.1:6390');
          },
        },
      });
      try {
        const res = await withRedis.inject({ url: '/readyz' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({
          status: 'unavailable',
          checks: { storage: { ok: true }, redis: { ok: false } },
        });
        expect((await withRedis.inject({ url: '/healthz' })).statusCode).toBe(200);
      } finally {
        await withRedis.close();
      }
    });
  });
});

describe('readiness with storage down', () => {
  it('answers /readyz 503 once the storage server is gone (after its 2 s cache)', async () => {
    const ctx = await startApiApp();
    try {
      // Probes share one round of checks for 2 s: five probes, one ping per bucket.
      const store = ctx.app.store as { ping: typeof ctx.app.store.ping };
      const ping = store.ping.bind(ctx.app.store);
      let pings = 0;
      store.ping = (bucket) => {
        pings++;
        return ping(bucket);
      };
      for (let i = 0; i < 5; i++)
        expect((await ctx.server.inject({ url: '/readyz' })).statusCode).toBe(200);
      expect(pings).toBe(2);
      await ctx.app.embedded!.close();
      let res = await ctx.server.inject({ url: '/readyz' });
      for (let i = 0; i < 60 && res.statusCode === 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        res = await ctx.server.inject({ url: '/readyz' });
      }
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { storage: { ok: false } } });
      expect((await ctx.server.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await ctx.server.close();
      await ctx.app.close().catch(() => {});
    }
  });
});
