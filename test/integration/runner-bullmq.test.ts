import crypto from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, inject } from 'vitest';
import { BullmqRunner } from '../../pipeline/runner/bullmq.js';
import { BULL_PREFIX, queueNames } from '../../pipeline/runner/bullmq-keys.js';
import { runnerConformance } from '../helpers/runner-conformance.js';

const redisUrl = inject('redisUrl');
const prefixes: string[] = [];

runnerConformance('bullmq', async (hooks) => {
  const queuePrefix = `mft-${crypto.randomBytes(4).toString('hex')}`;
  prefixes.push(queuePrefix);
  const runner = new BullmqRunner(hooks, {
    redisUrl,
    queuePrefix,
    retry: { attempts: 3, backoffMs: 5 },
    consume: { concurrency: 4, lock: { lockDurationMs: 5000, stalledIntervalMs: 1000 } },
    onError: () => {},
  });
  await runner.start();
  return runner;
});

// Runs after the suite's own afterEach has closed the runner: every queue and key of the test goes.
afterEach(async () => {
  const redis = new Redis(redisUrl);
  try {
    for (const prefix of prefixes.splice(0)) {
      for (const name of Object.values(queueNames(prefix))) {
        const queue = new Queue(name, { connection: redis, prefix: BULL_PREFIX });
        await queue.obliterate({ force: true });
        await queue.close();
      }
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
});
