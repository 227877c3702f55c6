import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  fingerprintOf,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  scopedKey,
  type IdempotencyStore,
} from '../../pipeline/api/idempotency.js';
import { MAX_ANSWER_BYTES } from '../../pipeline/api/idempotency-codec.js';
import { SqliteIdempotencyStore } from '../../pipeline/api/idempotency-sqlite.js';

/** One suite, run unchanged on both adapters of the idempotency port. */
function idempotencyConformance(name: string, make: () => IdempotencyStore) {
  describe(`idempotency store: ${name}`, () => {
    const key = () => crypto.randomUUID();

    it('lets the first request proceed, then replays its answer for the same body', async () => {
      const store = make();
      const k = key();
      expect(await store.begin(k, 'f1')).toEqual({ outcome: 'proceed' });
      expect(await store.begin(k, 'f1')).toEqual({ outcome: 'in-progress' });
      await store.complete(k, 'f1', { status: 202, body: { jobIds: ['j1'] } });
      expect(await store.begin(k, 'f1')).toEqual({
        outcome: 'replay',
        response: { status: 202, body: { jobIds: ['j1'] } },
      });
    });

    it('answers conflict for another body, pending or done', async () => {
      const store = make();
      const k = key();
      await store.begin(k, 'f1');
      expect(await store.begin(k, 'f2')).toEqual({ outcome: 'conflict' });
      await store.complete(k, 'f1', { status: 202, body: {} });
      expect(await store.begin(k, 'f2')).toEqual({ outcome: 'conflict' });
    });

    it('forgets an abandoned request, but never a finished one or another body', async () => {
      const store = make();
      const k = key();
      await store.begin(k, 'f1');
      await store.abandon(k, 'f2');
      expect(await store.begin(k, 'f1')).toEqual({ outcome: 'in-progress' });
      await store.abandon(k, 'f1');
      expect(await store.begin(k, 'f1')).toEqual({ outcome: 'proceed' });
      await store.complete(k, 'f1', { status: 202, body: 1 });
      await store.abandon(k, 'f1');
      expect((await store.begin(k, 'f1')).outcome).toBe('replay');
    });

    it('replays a large batch answer, and keeps no answer past the size bound', async () => {
      const store = make();
      const k = key();
      await store.begin(k, 'f');
      await store.complete(k, 'f', { status: 202, body: batchAnswer(1000) });
      expect(await store.begin(k, 'f')).toEqual({
        outcome: 'replay',
        response: { status: 202, body: batchAnswer(1000) },
      });
      // Incompressible and over the bound: not kept, so a retry runs again.
      const huge = crypto.randomBytes(2 * MAX_ANSWER_BYTES).toString('base64');
      const h = key();
      await store.begin(h, 'f');
      await store.complete(h, 'f', { status: 202, body: { huge } });
      expect(await store.begin(h, 'f')).toEqual({ outcome: 'proceed' });
    });

    it('lets exactly one of many concurrent first requests proceed', async () => {
      const store = make();
      const k = key();
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => store.begin(k, 'f')));
      expect(outcomes.filter((o) => o.outcome === 'proceed')).toHaveLength(1);
    });
  });
}

/** A batch answer as `POST /v1/jobs` gives it: a job id and an outcome per item. */
function batchAnswer(items: number) {
  const ids = Array.from({ length: items }, (_, i) =>
    crypto.createHash('sha256').update(String(i)).digest('hex').slice(0, 40),
  );
  return {
    jobIds: ids,
    items: ids.map((jobId, i) => ({
      bucket: 'mediaflow-input',
      key: `uploads/2026/12/batch/photo-${String(i).padStart(5, '0')}.jpg`,
      jobId,
      preset: 'image',
      status: 'created',
    })),
  };
}

idempotencyConformance('memory', () => new MemoryIdempotencyStore());
idempotencyConformance('sqlite', () => new SqliteIdempotencyStore(':memory:'));

const redis = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
const prefix = `mediaflow-test:${crypto.randomUUID()}:`;
idempotencyConformance('redis', () => new RedisIdempotencyStore(redis, prefix));
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('idempotency helpers', () => {
  it('fingerprints bodies by content, not key order', () => {
    expect(fingerprintOf({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(
      fingerprintOf({ b: [1, { d: 3, c: 2 }], a: 1 }),
    );
    expect(fingerprintOf({ a: 1 })).not.toBe(fingerprintOf({ a: 2 }));
    expect(fingerprintOf([1, 2])).not.toBe(fingerprintOf([2, 1]));
  });

  it('scopes keys by caller', () => {
    expect(scopedKey('key:aa', 'k')).not.toBe(scopedKey('key:bb', 'k'));
    expect(scopedKey('key:aa', 'k')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('replays an answer stored before answers were compressed (redis)', async () => {
    const k = crypto.randomUUID();
    const response = { status: 202, body: { jobIds: ['j1'] } };
    await redis.set(prefix + k, JSON.stringify({ fingerprint: 'f', response }));
    const store = new RedisIdempotencyStore(redis, prefix);
    expect(await store.begin(k, 'f')).toEqual({ outcome: 'replay', response });
    await redis.set(prefix + k, JSON.stringify({ fingerprint: 'f' }));
    expect(await store.begin(k, 'f')).toEqual({ outcome: 'in-progress' });
  });

  it('stores a 1,000-item answer compressed, over five times smaller than its JSON', async () => {
    const store = new MemoryIdempotencyStore();
    const body = batchAnswer(1000);
    await store.begin('k', 'f');
    await store.complete('k', 'f', { status: 202, body });
    const json = Buffer.byteLength(JSON.stringify(body));
    expect(store.storedBytes).toBeLessThan(json / 5);
    const k = crypto.randomUUID();
    const redisStore = new RedisIdempotencyStore(redis, prefix);
    await redisStore.begin(k, 'f');
    await redisStore.complete(k, 'f', { status: 202, body });
    expect(await redis.strlen(prefix + k)).toBeLessThan(json / 5);
  });

  it('holds at most its byte bound in memory, dropping the oldest answers', async () => {
    const store = new MemoryIdempotencyStore(Date.now, 64 * 1024);
    const keys = Array.from({ length: 40 }, () => crypto.randomUUID());
    for (const k of keys) {
      await store.begin(k, 'f');
      await store.complete(k, 'f', { status: 202, body: batchAnswer(200) });
      expect(store.storedBytes).toBeLessThanOrEqual(64 * 1024);
    }
    expect(await store.begin(keys[0]!, 'f')).toEqual({ outcome: 'proceed' });
    expect((await store.begin(keys.at(-1)!, 'f')).outcome).toBe('replay');
  });

  it('expires entries after their time to live (memory)', async () => {
    let now = 0;
    const store = new MemoryIdempotencyStore(() => now);
    await store.begin('k', 'f');
    await store.complete('k', 'f', { status: 202, body: 1 });
    now += 25 * 3600 * 1000;
    expect(await store.begin('k', 'f')).toEqual({ outcome: 'proceed' });
  });

  it('expires entries after their time to live (sqlite)', async () => {
    let now = 0;
    const store = new SqliteIdempotencyStore(':memory:', () => now);
    await store.begin('k', 'f');
    await store.complete('k', 'f', { status: 202, body: 1 });
    now += 23 * 3600 * 1000;
    expect((await store.begin('k', 'f')).outcome).toBe('replay');
    now += 2 * 3600 * 1000;
    expect(await store.begin('k', 'f')).toEqual({ outcome: 'proceed' });
    store.close();
  });
});
