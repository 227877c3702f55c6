import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { MemoryJobStore } from '../../pipeline/jobs/memory-store.js';
import { RedisJobStore } from '../../pipeline/jobs/redis-store.js';
import { SqliteJobStore } from '../../pipeline/jobs/sqlite-store.js';
import { jobStoreConformance } from '../helpers/job-store-conformance.js';

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
