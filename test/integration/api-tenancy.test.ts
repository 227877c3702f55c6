import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBodySchema, jobPageSchema } from '../../pipeline/api/schemas.js';
import { auth, startApiApp, waitForEnd, WEBHOOK_TOKEN } from '../helpers/api-server.js';

/**
 * Callers are principals: each sees only the jobs it submitted, admins see all, bucket-event jobs
 * belong to `storage` (admins only). Batches may name only the input bucket; keys with `.`/`..`
 * segments are refused everywhere. Real embedded S3 store, the media-free copy workflow.
 */
describe('principals, buckets and keys', () => {
  let ctx: Awaited<ReturnType<typeof startApiApp>>;
  let input: string;
  const ALICE = auth('key-a-2f1e');
  const BOB = auth('key-b-93c4');
  const OPS = auth('key-o-77d2');
  const errorOf = (res: { json(): unknown }) => errorBodySchema.parse(res.json()).error;
  const submit = (who: Record<string, string>, body: object) =>
    ctx.server.inject({ method: 'POST', url: '/v1/jobs', headers: who, payload: body });
  const call = (who: Record<string, string>, method: 'GET' | 'DELETE' | 'POST', url: string) =>
    ctx.server.inject({ method, url, headers: who });
  const event = (payload: object) =>
    ctx.server.inject({
      method: 'POST',
      url: '/v1/events/s3',
      headers: auth(WEBHOOK_TOKEN),
      payload,
    });
  const listed = async (who: Record<string, string>) =>
    jobPageSchema
      .parse((await call(who, 'GET', '/v1/jobs?limit=100')).json())
      .jobs.map((j) => j.id);

  beforeAll(async () => {
    ctx = await startApiApp({
      apiKeys: ['alice:key-a-2f1e', 'bob:key-b-93c4'],
      adminKeys: ['ops:key-o-77d2'],
    });
    input = ctx.app.config.buckets.input;
    await ctx.app.store.putBytes(input, 'alice/cat.jpg', 'cat');
    await ctx.app.store.putBytes(input, 'shared/logo.jpg', 'logo');
    // Another application's bucket the service's credentials can read.
    await ctx.app.store.ensureBucket('hr-private');
    await ctx.app.store.putBytes('hr-private', 'salaries/2026.jpg', 'secret');
  });
  afterAll(() => ctx.close());

  it("answers 404 for someone else's job on every route; admins see everything", async () => {
    const res = await submit(ALICE, { items: [{ bucket: input, key: 'alice/cat.jpg' }] });
    expect(res.statusCode).toBe(202);
    const id = (res.json() as { jobIds: string[] }).jobIds[0]!;
    await waitForEnd(ctx.app, id);
    const output = ctx.app.jobs
      .get(id)
      .then((j) => j!.outputs[0]!.key.slice(j!.spec.outputPrefix.length));
    for (const [method, url] of [
      ['GET', `/v1/jobs/${id}`],
      ['GET', `/v1/jobs/${id}/events`],
      ['GET', `/v1/jobs/${id}/outputs/${await output}`],
      ['DELETE', `/v1/jobs/${id}`],
      ['POST', `/v1/jobs/${id}/retry`],
    ] as const) {
      const other = await call(BOB, method, url);
      expect(other.statusCode, `${method} ${url}`).toBe(404);
      expect(errorOf(other).code).toBe('JOB_NOT_FOUND');
    }
    expect((await call(ALICE, 'GET', `/v1/jobs/${id}`)).statusCode).toBe(200);
    expect((await call(ALICE, 'GET', `/v1/jobs/${id}/outputs/${await output}`)).statusCode).toBe(
      200,
    );
    expect((await call(OPS, 'GET', `/v1/jobs/${id}`)).statusCode).toBe(200);
    expect(await listed(ALICE)).toContain(id);
    expect(await listed(BOB)).not.toContain(id);
    expect(await listed(OPS)).toContain(id);
  });

  it('gives two principals submitting the same object one job that both watch', async () => {
    const item = { items: [{ bucket: input, key: 'shared/logo.jpg' }] };
    const a = (await submit(ALICE, item)).json() as { jobIds: string[] };
    const b = (await submit(BOB, item)).json() as { items: { status: string; jobId: string }[] };
    expect(b.items[0]).toMatchObject({ status: 'existing', jobId: a.jobIds[0] });
    for (const who of [ALICE, BOB]) expect(await listed(who)).toContain(a.jobIds[0]);
  });

  it("finds only the caller's own jobs by search; admins find everyone's", async () => {
    await ctx.app.store.putBytes(input, 'bob/cat.jpg', 'cat');
    const bobs = (await submit(BOB, { items: [{ bucket: input, key: 'bob/cat.jpg' }] })).json() as {
      jobIds: string[];
    };
    const alices = (
      await submit(ALICE, { items: [{ bucket: input, key: 'alice/cat.jpg' }] })
    ).json() as {
      jobIds: string[];
    };
    const search = async (who: Record<string, string>, q: string) => {
      const res = await call(who, 'GET', `/v1/jobs?q=${encodeURIComponent(q)}&limit=100`);
      expect(res.statusCode).toBe(200);
      return jobPageSchema.parse(res.json()).jobs.map((j) => j.id);
    };
    expect(await search(ALICE, 'CAT')).toEqual(alices.jobIds);
    expect(await search(BOB, 'cat')).toEqual(bobs.jobIds);
    expect(await search(BOB, 'alice')).toEqual([]);
    expect((await search(OPS, 'cat.jpg')).sort()).toEqual(
      [...alices.jobIds, ...bobs.jobIds].sort(),
    );
    // Every preset of these jobs is `image`: a preset search still keeps to the caller's jobs.
    expect(await search(BOB, 'image')).not.toContain(alices.jobIds[0]);
  });

  it('gives bucket-event jobs to the storage principal: admins only', async () => {
    await ctx.app.store.putBytes(input, 'events/dog.jpg', 'dog');
    const hook = await event(notification(input, 'events/dog.jpg'));
    expect(hook.statusCode).toBeLessThan(300);
    const [job] = (await ctx.app.jobs.list({ limit: 100 })).jobs.filter(
      (j) => j.spec.source.key === 'events/dog.jpg',
    );
    expect(job).toBeDefined();
    expect(await listed(OPS)).toContain(job!.spec.id);
    for (const who of [ALICE, BOB]) {
      expect(await listed(who)).not.toContain(job!.spec.id);
      expect((await call(who, 'GET', `/v1/jobs/${job!.spec.id}`)).statusCode).toBe(404);
    }
  });

  it('refuses any bucket but the input bucket with 403, before listing or reading', async () => {
    for (const body of [
      { items: [{ bucket: 'hr-private', key: 'salaries/2026.jpg' }] },
      { bucket: 'hr-private', prefix: '' },
      { bucket: 'hr-private', prefix: 'salaries/' },
    ]) {
      const res = await submit(OPS, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(403);
      expect(errorOf(res).message).toBe(
        `Bucket "hr-private" is not an input bucket; allowed: ${input}`,
      );
    }
    const all = (await ctx.app.jobs.list({ limit: 100 })).jobs;
    expect(all.some((j) => j.spec.source.bucket === 'hr-private')).toBe(false);
  });

  it('refuses keys with . or .. segments: 400 in the API, events and the adapter', async () => {
    for (const body of [
      { items: [{ bucket: input, key: '../hr-private/salaries/2026.jpg' }] },
      { items: [{ bucket: input, key: 'a/./b.jpg' }] },
      { prefix: 'x/../' },
    ]) {
      const res = await submit(ALICE, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(errorOf(res).message).toMatch(/a key without "\." or "\.\." path segments/);
    }
    const hook = await event(notification(input, 'up/../../hr-private/salaries/2026.jpg'));
    expect(hook.statusCode).toBe(400);
    expect(errorOf(hook).code).toBe('EVENT_INVALID');
    await expect(
      ctx.app.store.head(input, '../hr-private/salaries/2026.jpg'),
    ).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    // Dots inside a segment are ordinary characters.
    await ctx.app.store.putBytes(input, 'a..b/.hidden.jpg', 'ok');
    expect(await ctx.app.store.head(input, 'a..b/.hidden.jpg')).not.toBeNull();
  });
});

function notification(bucket: string, key: string) {
  return {
    EventName: 's3:ObjectCreated:Put',
    Key: `${bucket}/${key}`,
    Records: [
      {
        eventVersion: '2.0',
        eventSource: 'minio:s3',
        eventName: 's3:ObjectCreated:Put',
        s3: { bucket: { name: bucket }, object: { key, size: 3 } },
      },
    ],
  };
}
