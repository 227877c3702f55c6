import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { RedisJobOwners } from '../../pipeline/api/job-owners.js';
import { MemoryJobStore } from '../../pipeline/jobs/memory-store.js';
import { RedisJobStore } from '../../pipeline/jobs/redis-store.js';
import type { RetentionOptions } from '../../pipeline/jobs/retention.js';
import { SqliteJobStore } from '../../pipeline/jobs/sqlite-store.js';
import { jobRecord, jobStoreConformance } from '../helpers/job-store-conformance.js';

jobStoreConformance('memory', async (retention) => ({ store: new MemoryJobStore(retention) }));

function openRedis(retention?: RetentionOptions) {
  const redisUrl = inject('redisUrl');
  const prefix = `mft-${crypto.randomBytes(4).toString('hex')}:`;
  const store = new RedisJobStore(redisUrl, prefix, undefined, retention);
  return {
    prefix,
    store,
    watching: () => store.whenWatching(),
    async cleanup() {
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

jobStoreConformance('redis', async (retention) => openRedis(retention));

jobStoreConformance('sqlite', async (retention) => ({
  store: new SqliteJobStore(':memory:', retention),
}));

describe('RedisJobStore retention', () => {
  it("gives a finished job's keys a TTL, removes it on a retry, and prunes every key", async () => {
    let clock = Date.now();
    const day = 24 * 3600 * 1000;
    const opened = openRedis({ retentionMs: day, now: () => clock });
    const redis = new Redis(inject('redisUrl'));
    try {
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      const id = job.spec.id;
      const keyOf = (suffix: string) => `${opened.prefix}job:${id}${suffix}`;
      const owners = new RedisJobOwners(redis, opened.prefix);
      const perJob = [
        keyOf(''),
        keyOf(':tasks'),
        keyOf(':results'),
        keyOf(':writes'),
        `${opened.prefix}owners:${id}`,
      ];
      const ttls = async () => Promise.all(perJob.map((key) => redis.pttl(key)));
      await opened.store.create(job);
      await opened.store.setTask(id, 'image', {
        kind: 'image',
        stage: 1,
        state: 'running',
        progress: 0,
        attempts: 1,
      });
      await opened.store.recordWrites(id, ['k/a']);
      await opened.store.setState(id, { state: 'failed' });
      // A result, or an owner (a caller submitting the finished job), arriving after the end
      // expires with the job.
      await opened.store.putResults(id, { image: {} });
      await owners.add(id, 'alice');
      for (const ttl of await ttls()) expect(ttl).toBeGreaterThan(day - 60_000);
      await opened.store.setState(id, { state: 'queued' });
      expect(await ttls()).toEqual([-1, -1, -1, -1, -1]);
      await opened.store.setState(id, { state: 'succeeded' });
      clock += day + 1;
      await opened.store.counts();
      expect((await redis.keys(`${opened.prefix}*`)).sort()).toEqual([]);
    } finally {
      await opened.store.close();
      await opened.cleanup();
      redis.disconnect();
    }
  });
});

describe('SqliteJobStore on a file from before retention', () => {
  it('adds the expiry, counts the jobs it finds, and expires the finished ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-jobs-'));
    const file = path.join(dir, 'jobs.sqlite');
    try {
      const old = new Database(file);
      old.exec(`CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL, record TEXT NOT NULL, activity INTEGER)`);
      const insert = old.prepare('INSERT INTO jobs (id, state, record) VALUES (?, ?, ?)');
      for (const state of ['succeeded', 'failed', 'running'] as const) {
        const { tasks: _, ...record } = jobRecord('2026-01-01T00:00:00.000Z', { state });
        insert.run(record.spec.id, state, JSON.stringify(record));
      }
      old.close();
      let clock = Date.now();
      const store = new SqliteJobStore(file, { retentionMs: 1000, now: () => clock });
      expect(await store.counts()).toMatchObject({ succeeded: 1, failed: 1, running: 1 });
      clock += 1001;
      expect(await store.counts()).toMatchObject({ succeeded: 0, failed: 0, running: 1 });
      expect((await store.list({ limit: 10 })).jobs.map((j) => j.state)).toEqual(['running']);
      await store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The Redis store's search looks at a bounded number of jobs per call: a search that matches
 * only the oldest job answers with empty pages and cursors until it reaches it.
 */
describe('RedisJobStore search', () => {
  it('looks at no more than its budget per call, and resumes from the cursor', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `mft-${crypto.randomBytes(4).toString('hex')}:`;
    const store = new RedisJobStore(redisUrl, prefix, () => {}, {}, 5);
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
