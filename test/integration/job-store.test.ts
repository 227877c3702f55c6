import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { MemoryJobStore } from '../../pipeline/jobs/memory-store.js';
import { RedisJobStore } from '../../pipeline/jobs/redis-store.js';
import { SqliteJobStore } from '../../pipeline/jobs/sqlite-store.js';
import { jobRecord, jobStoreConformance } from '../helpers/job-store-conformance.js';

jobStoreConformance('memory', async () => ({ store: new MemoryJobStore() }));

jobStoreConformance('redis', async () => {
  const redisUrl = inject('redisUrl');
  const prefix = `mft-${crypto.randomBytes(4).toString('hex')}:`;
  const store = new RedisJobStore(redisUrl, prefix);
  return {
    store,
    watching: () => store.whenWatching(),
    async cleanup() {
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
});

jobStoreConformance('sqlite', async () => ({ store: new SqliteJobStore(':memory:') }));

/**
 * The Redis store's search looks at a bounded number of jobs per call: a search that matches
 * only the oldest job answers with empty pages and cursors until it reaches it.
 */
describe('RedisJobStore search', () => {
  it('looks at no more than its budget per call, and resumes from the cursor', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `mft-${crypto.randomBytes(4).toString('hex')}:`;
    const store = new RedisJobStore(redisUrl, prefix, () => {}, 5);
    try {
      const jobs = Array.from({ length: 12 }, (_, i) =>
        jobRecord(`2026-03-01T00:00:${String(10 + i)}.000Z`),
      );
      jobs[0]!.spec.source.key = 'needle/oldest.jpg';
      for (const job of jobs) await store.create(job);
      const pages: number[] = [];
      let cursor: string | undefined;
      const found: string[] = [];
      do {
        const page = await store.list({ q: 'NEEDLE', limit: 10, ...(cursor ? { cursor } : {}) });
        pages.push(page.jobs.length);
        found.push(...page.jobs.map((j) => j.spec.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor && pages.length < 10);
      expect(found).toEqual([jobs[0]!.spec.id]);
      // 12 jobs, 5 a call: two empty pages with cursors, then the match.
      expect(pages).toEqual([0, 0, 1]);
    } finally {
      await store.close();
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
