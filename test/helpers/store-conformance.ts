import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../pipeline/storage/port.js';
import { mapConcurrently, STORAGE_PARALLELISM } from '../../pipeline/tasks/concurrently.js';

/**
 * The object-store port's conformance suite, run against every S3-protocol server we support
 * (s3rver here; MinIO and AWS with the same suite where one is reachable).
 */
export function storeConformance(
  name: string,
  open: () => Promise<{ store: ObjectStore; bucket: string; close(): Promise<void> }>,
): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let store: ObjectStore;
    let bucket: string;
    let close: () => Promise<void>;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));

    beforeAll(async () => {
      ({ store, bucket, close } = await open());
      await store.ensureBucket(bucket);
      await store.ensureBucket(bucket); // idempotent
    });
    afterAll(async () => {
      await close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('round-trips a file with its content type, under keys with spaces and unicode', async () => {
      const file = path.join(dir, 'in.bin');
      fs.writeFileSync(file, Buffer.from('hello mediaflow'));
      const key = 'dir with space/clip é+1.mp4';
      await store.upload(bucket, key, file, { contentType: 'video/mp4' });
      const head = await store.head(bucket, key);
      expect(head).toMatchObject({ key, size: 15, contentType: 'video/mp4' });
      expect(head!.etag).toMatch(/^[0-9a-f-]+$/);
      const out = path.join(dir, 'out.bin');
      const info = await store.download(bucket, key, out, { expectEtag: head!.etag });
      expect(info.size).toBe(15);
      expect(fs.readFileSync(out, 'utf8')).toBe('hello mediaflow');
    });

    it('uploads large files in parts', async () => {
      const file = path.join(dir, 'big.bin');
      fs.writeFileSync(file, Buffer.alloc(20 * 1024 * 1024, 7));
      await store.upload(bucket, 'big.bin', file);
      expect((await store.head(bucket, 'big.bin'))!.size).toBe(20 * 1024 * 1024);
    });

    it('one abort listener per download in flight on a shared signal, none after', async () => {
      const file = path.join(dir, 'shared.bin');
      fs.writeFileSync(file, Buffer.alloc(2 * 1024 * 1024, 3));
      const keys = Array.from({ length: 16 }, (_, i) => `shared/${i}`);
      await Promise.all(keys.map((key) => store.upload(bucket, key, file)));
      const controller = new AbortController();
      let most = 0;
      const sample = setInterval(
        () => (most = Math.max(most, getEventListeners(controller.signal, 'abort').length)),
        1,
      );
      try {
        // A task's storage round trips: STORAGE_PARALLELISM in flight, all on the task's signal.
        await mapConcurrently(keys, (key) =>
          store.download(bucket, key, path.join(dir, key.replace('/', '-')), {
            signal: controller.signal,
          }),
        );
      } finally {
        clearInterval(sample);
      }
      expect(most).toBeGreaterThan(0); // the sampler saw downloads in flight
      expect(most).toBeLessThanOrEqual(STORAGE_PARALLELISM);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    });

    it('reports missing objects as null or SOURCE_NOT_FOUND', async () => {
      expect(await store.head(bucket, 'missing')).toBeNull();
      await expect(store.download(bucket, 'missing', path.join(dir, 'x'))).rejects.toMatchObject({
        code: 'SOURCE_NOT_FOUND',
      });
      await expect(store.getBytes(bucket, 'missing')).rejects.toMatchObject({
        code: 'SOURCE_NOT_FOUND',
      });
      const listMissingBucket = async () => {
        for await (const _ of store.list('no-such-bucket-here', '')) void _;
      };
      await expect(listMissingBucket()).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' });
    });

    it('refuses a changed object (stale ETag) and an oversized one', async () => {
      await store.putBytes(bucket, 'v.txt', 'version 1');
      const first = (await store.head(bucket, 'v.txt'))!.etag;
      await store.putBytes(bucket, 'v.txt', 'version 2');
      await expect(
        store.download(bucket, 'v.txt', path.join(dir, 'v'), { expectEtag: first }),
      ).rejects.toMatchObject({ code: 'SOURCE_CHANGED' });
      await expect(
        store.download(bucket, 'v.txt', path.join(dir, 'v'), { maxBytes: 3 }),
      ).rejects.toMatchObject({ code: 'MEDIA_LIMIT_EXCEEDED' });
    });

    it('lists and deletes by prefix, across pages', async () => {
      await Promise.all(
        Array.from({ length: 1005 }, (_, i) =>
          store.putBytes(bucket, `many/${String(i).padStart(4, '0')}`, 'x'),
        ),
      );
      await store.putBytes(bucket, 'manyother', 'x');
      const keys: string[] = [];
      for await (const o of store.list(bucket, 'many/')) keys.push(o.key);
      expect(keys).toHaveLength(1005);
      expect(await store.deletePrefix(bucket, 'many/')).toBe(1005);
      expect(await store.head(bucket, 'many/0001')).toBeNull();
      expect(await store.head(bucket, 'manyother')).not.toBeNull();
      await expect(store.deletePrefix(bucket, '')).rejects.toThrow(/empty prefix/);
    });
  });
}
