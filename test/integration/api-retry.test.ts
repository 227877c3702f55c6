import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MediaflowError } from '../../functions/errors.js';
import { jobViewSchema } from '../../pipeline/api/schemas.js';
import { defineHandler, type AnyTaskHandler } from '../../pipeline/tasks/handler.js';
import { auth, startApiApp, waitForEnd } from '../helpers/api-server.js';
import { copyHandlers } from '../helpers/copy-workflow.js';
import { listKeys } from '../helpers/embedded-app.js';

/**
 * POST /v1/jobs/:id/retry. The copy workflow's parts read an intermediate the first stage put in
 * scratch, which compensation removed when the job failed: a retry that re-ran only the failed
 * task would fail again on the missing intermediate. `broken` makes part-1 fail on demand.
 */
describe('retrying a failed job', () => {
  const broken = new Set<string>();
  const runs: string[] = [];
  const handlers = new Map<string, AnyTaskHandler>([
    [
      'inspect',
      defineHandler({
        kind: 'inspect',
        params: z.object({}),
        async run(params, io) {
          runs.push('inspect');
          return copyHandlers.get('inspect')!.run(params, io);
        },
      }),
    ],
    [
      'part',
      defineHandler({
        kind: 'part',
        params: z.object({ index: z.number().int() }),
        async run({ index }, io) {
          runs.push(`part-${index}`);
          const text = fs.readFileSync(await io.fetchScratch('source.bin'), 'utf8');
          if (index === 1 && broken.has(text))
            throw new MediaflowError('MEDIA_UNREADABLE', 'part 1 is broken for now');
          const out = path.join(io.ctx.scratchDir, 'out.txt');
          fs.writeFileSync(out, `${index}:${text}`);
          return { outputs: [await io.putOutput(`part-${index}.txt`, out, { role: 'part' })] };
        },
      }),
    ],
  ]);
  let ctx: Awaited<ReturnType<typeof startApiApp>>;
  let input: string;

  beforeAll(async () => {
    ctx = await startApiApp({}, { handlers });
    input = ctx.app.config.buckets.input;
  });
  afterAll(() => ctx.close());

  const submit = async (key: string) =>
    (
      await ctx.server.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: auth(),
        payload: { items: [{ bucket: input, key }] },
      })
    ).json().jobIds[0] as string;
  const retry = (id: string) =>
    ctx.server.inject({ method: 'POST', url: `/v1/jobs/${id}/retry`, headers: auth() });

  it(
    're-runs the failed job, including the earlier stage whose scratch compensation removed, ' +
      'and succeeds',
    async () => {
      broken.add('retry-me');
      await ctx.app.store.putBytes(input, 'retry.jpg', 'retry-me');
      const id = await submit('retry.jpg');
      const failed = await waitForEnd(ctx.app, id);
      expect(failed.state).toBe('failed');
      expect(
        await listKeys(ctx.app, ctx.app.config.buckets.output, failed.spec.scratchPrefix),
      ).toEqual([]);

      broken.delete('retry-me');
      runs.length = 0;
      const res = await retry(id);
      expect(res.statusCode).toBe(202);
      const view = jobViewSchema.parse(res.json());
      expect(view.id).toBe(id);
      expect(['queued', 'running']).toContain(view.state);
      expect(view.error).toBeUndefined();

      const done = await waitForEnd(ctx.app, id);
      expect(done.state).toBe('succeeded');
      expect(done.error).toBeUndefined();
      expect(runs.sort()).toEqual(['inspect', 'part-0', 'part-1', 'part-2']);
      const own = `${ctx.app.config.buckets.input}/retry.jpg/image/${id}/`;
      expect(done.outputs.map((o) => o.key)).toEqual([
        `${own}part-0.txt`,
        `${own}part-1.txt`,
        `${own}part-2.txt`,
      ]);
      expect(
        Object.values(done.tasks).every((t) => t.state === 'succeeded' && t.attempts === 1),
      ).toBe(true);
      expect((await retry(id)).statusCode).toBe(409);
    },
  );

  it('retries a cancelled job too', async () => {
    await ctx.app.store.putBytes(input, 'cancel.jpg', 'fine');
    const id = await submit('cancel.jpg');
    await ctx.server.inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers: auth() });
    expect((await ctx.app.jobs.get(id))!.state).toBe('cancelled');
    expect((await retry(id)).statusCode).toBe(202);
    expect((await waitForEnd(ctx.app, id)).state).toBe('succeeded');
  });

  it(
    'refuses with 409 SOURCE_CHANGED when the source ' + 'was replaced since the job was made',
    async () => {
      broken.add('v1');
      await ctx.app.store.putBytes(input, 'changed.jpg', 'v1');
      const id = await submit('changed.jpg');
      expect((await waitForEnd(ctx.app, id)).state).toBe('failed');
      await ctx.app.store.putBytes(input, 'changed.jpg', 'v2');
      const res = await retry(id);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('SOURCE_CHANGED');
      expect((await ctx.app.jobs.get(id))!.state).toBe('failed');
    },
  );
});
