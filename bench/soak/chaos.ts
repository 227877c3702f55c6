import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Cluster } from './cluster.js';

/** What the chaos did, for the report. */
export interface ChaosCounts {
  workerKills: number;
  clientKills: number;
  redisRestarts: number;
  s3Outages: number;
}

export interface ChaosOptions {
  /** Mean seconds between kill -9s of a random worker (jittered ±50%). */
  killEveryS: number;
  /** Seconds from the start at which Redis is restarted (SIGTERM, then started on its port). */
  redisRestartsAtS: number[];
  /** Seconds from the start at which s3rver is killed, and for how long it stays down. */
  s3OutageAtS: number;
  s3OutageS: number;
}

/**
 * Runs the operator's bad day until `stop` is aborted: worker kill -9s, every Redis client
 * connection dropped every 3 s, Redis restarted on schedule, and storage down once. Resolves with
 * the counts once every loop has ended (an outage in progress is always ended first).
 */
export async function runChaos(
  cluster: Cluster,
  options: ChaosOptions,
  stop: AbortSignal,
  log: (line: string) => void,
): Promise<ChaosCounts> {
  const counts: ChaosCounts = { workerKills: 0, clientKills: 0, redisRestarts: 0, s3Outages: 0 };
  const started = Date.now();
  const wait = (ms: number) =>
    sleep(ms, undefined, { signal: stop }).then(
      () => true,
      () => false,
    );
  const until = (atS: number) => wait(Math.max(0, started + atS * 1000 - Date.now()));

  const killWorkers = async () => {
    while (await wait(options.killEveryS * 1000 * (0.5 + Math.random()))) {
      const index = Math.floor(Math.random() * cluster.workers.length);
      await cluster.killWorker(index);
      counts.workerKills++;
    }
  };
  const dropClients = async () => {
    while (await wait(3000)) {
      const redis = new Redis(cluster.redis.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      redis.on('error', () => {});
      try {
        await redis.connect();
        await redis.call('CLIENT', 'KILL', 'TYPE', 'normal');
        counts.clientKills++;
      } catch {
        /* Redis is restarting */
      } finally {
        redis.disconnect();
      }
    }
  };
  const restartRedis = async () => {
    for (const at of options.redisRestartsAtS) {
      if (!(await until(at))) return;
      log(`chaos: restarting Redis`);
      await cluster.redis.stop();
      await sleep(1000);
      await cluster.redis.start();
      counts.redisRestarts++;
    }
  };
  const stopStorage = async () => {
    if (!(await until(options.s3OutageAtS))) return;
    log(`chaos: storage down for ${options.s3OutageS} s`);
    await cluster.stopS3();
    await sleep(options.s3OutageS * 1000);
    await cluster.startS3();
    counts.s3Outages++;
    log('chaos: storage back');
  };
  await Promise.all([killWorkers(), dropClients(), restartRedis(), stopStorage()]);
  return counts;
}
