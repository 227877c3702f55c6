import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobViewSchema, submitResponseSchema } from '../../pipeline/api/schemas.js';
import { auth, startApiApp, waitForEnd } from '../helpers/api-server.js';
import { listKeys } from '../helpers/embedded-app.js';

/**
 * Issue 11, case 2: versions of one key must not overwrite each other. Runs the API (fastify
 * inject) over the copy workflow on a real embedded S3 store.
 */
describe('output versions: each job writes only its own folder', () => {
  let ctx: Awaited<ReturnType<typeof startApiApp>>;
  let input: string;
  let output: string;
  const get = (url: string) => ctx.server.inject({ method: 'GET', url, headers: auth() });
  const submit = async (key: string) => {
    const res = await ctx.server.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: auth(),
      payload: { items: [{ bucket: input, key }] },
    });
    expect(res.statusCode).toBe(202);
    return submitResponseSchema.parse(res.json()).jobIds[0]!;
  };
  const current = async (key: string) =>
    JSON.parse(
      (await ctx.app.store.getBytes(output, `${input}/${key}/image/current.json`)).toString(),
    ) as { jobId: string; manifestKey: string };

  beforeAll(async () => {
    ctx = await startApiApp({});
    ({ input, output } = ctx.app.config.buckets);
  });
  afterAll(() => ctx.close());

  it('a junk re-upload over a good key leaves the good job intact and servable', async () => {
    await ctx.app.store.putBytes(input, 'clips/a.jpg', 'good');
    const good = await submit('clips/a.jpg');
    expect((await waitForEnd(ctx.app, good)).state).toBe('succeeded');
    const before = await listKeys(ctx.app, output, `${input}/clips/a.jpg/`);

    // The same key, now junk: its job fails and is compensated.
    await ctx.app.store.putBytes(input, 'clips/a.jpg', 'FAIL');
    const junk = await submit('clips/a.jpg');
    expect(junk).not.toBe(good);
    const failed = await waitForEnd(ctx.app, junk);
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'MEDIA_UNREADABLE' } });
    // It wrote part-0 before part-1 failed, in its own folder, and took only that back.
    expect(failed.spec.outputPrefix).not.toBe((await ctx.app.jobs.get(good))!.spec.outputPrefix);
    expect(await listKeys(ctx.app, output, `${input}/clips/a.jpg/`)).toEqual(before);

    const view = jobViewSchema.parse((await get(`/v1/jobs/${good}`)).json());
    expect(view.state).toBe('succeeded');
    const manifest = await get(view.manifestUrl!);
    expect(manifest.statusCode).toBe(200);
    expect(JSON.parse(manifest.body)).toMatchObject({ jobId: good });
    for (const [i, o] of view.outputs.entries()) {
      const res = await get(o.url);
      expect([res.statusCode, res.body]).toEqual([200, `${i}:good`]);
    }
    expect(await current('clips/a.jpg')).toMatchObject({
      jobId: good,
      manifestKey: `${view.outputPrefix}manifest.json`,
    });
  });

  it('a good new version moves current.json; the old version stays servable', async () => {
    await ctx.app.store.putBytes(input, 'clips/b.jpg', 'v1');
    const v1 = await submit('clips/b.jpg');
    await waitForEnd(ctx.app, v1);
    await ctx.app.store.putBytes(input, 'clips/b.jpg', 'v2');
    const v2 = await submit('clips/b.jpg');
    expect((await waitForEnd(ctx.app, v2)).state).toBe('succeeded');
    expect((await current('clips/b.jpg')).jobId).toBe(v2);
    const old = jobViewSchema.parse((await get(`/v1/jobs/${v1}`)).json());
    expect((await get(old.outputs[0]!.url)).body).toBe('0:v1');
    const fresh = jobViewSchema.parse((await get(`/v1/jobs/${v2}`)).json());
    expect((await get(fresh.outputs[0]!.url)).body).toBe('0:v2');
  });

  it('an older version finishing last does not take current.json back', async () => {
    // v1 is slow; v2 is uploaded and finishes first; then v1 finishes.
    await ctx.app.store.putBytes(input, 'clips/c.jpg', 'SLOW 1200');
    const v1 = await submit('clips/c.jpg');
    await new Promise((r) => setTimeout(r, 1100));
    await ctx.app.store.putBytes(input, 'clips/c.jpg', 'v2');
    const v2 = await submit('clips/c.jpg');
    expect((await waitForEnd(ctx.app, v2)).state).toBe('succeeded');
    expect((await waitForEnd(ctx.app, v1)).state).toBe('succeeded');
    expect((await current('clips/c.jpg')).jobId).toBe(v2);
  });
});
