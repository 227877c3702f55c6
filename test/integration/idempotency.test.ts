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

    it('lets exactly one of many concurrent first requests proceed', async () => {
      const store = make();
      const k = key();
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => store.begin(k, 'f')));
      expect(outcomes.filter((o) => o.outcome === 'proceed')).toHaveLength(1);
    });
  });
}

idempotencyConformance('memory', () => new MemoryIdempotencyStore());

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

  it('expires entries after their time to live (memory)', async () => {
    let now = 0;
    const store = new MemoryIdempotencyStore(() => now);
    await store.begin('k', 'f');
    await store.complete('k', 'f', { status: 202, body: 1 });
    now += 25 * 3600 * 1000;
    expect(await store.begin('k', 'f')).toEqual({ outcome: 'proceed' });
  });
});
