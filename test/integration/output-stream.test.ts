import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiApp } from '../helpers/api-server.js';

/** Ranged reads go to storage as S3 Range requests: a byte of a big object costs a byte. */
describe('ObjectStore.getStream', () => {
  let ctx: Awaited<ReturnType<typeof startApiApp>>;
  const SIZE = 24 * 1024 * 1024;
  beforeAll(async () => {
    ctx = await startApiApp();
    const big = Buffer.alloc(SIZE, 'a');
    big.write('XYZ', SIZE - 3);
    await ctx.app.store.putBytes(ctx.app.config.buckets.output, 'big/object.bin', big);
  });
  afterAll(() => ctx.close());

  it('streams only the requested range of a 24 MiB object', async () => {
    const { output } = ctx.app.config.buckets;
    const head = await ctx.app.store.head(output, 'big/object.bin');
    const tail = await ctx.app.store.getStream(output, 'big/object.bin', {
      range: { start: SIZE - 3, end: SIZE - 1 },
      expectEtag: head!.etag,
    });
    expect(await text(tail)).toBe('XYZ');
    const one = await ctx.app.store.getStream(output, 'big/object.bin', {
      range: { start: 0, end: 0 },
    });
    expect(await text(one)).toBe('a');
  });

  it('fails with SOURCE_CHANGED when the object is no longer the expected version', async () => {
    const { output } = ctx.app.config.buckets;
    await expect(
      ctx.app.store.getStream(output, 'big/object.bin', { expectEtag: 'not-the-etag' }),
    ).rejects.toMatchObject({ code: 'SOURCE_CHANGED' });
  });
});
