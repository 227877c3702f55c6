import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildServer } from '../../pipeline/api/server.js';
import { startServe, type ServeHandle } from '../../pipeline/cli/serve.js';
import { loadConfig } from '../../pipeline/config/load.js';
import { createDistributedApp, type DistributedApp } from '../../pipeline/distributed-app.js';
import { createLogger } from '../../pipeline/log.js';
import type { WorkerInfo } from '../../pipeline/runner/worker-registry.js';
import { WorkerRegistry } from '../../pipeline/runner/worker-registry.js';
import { MEDIAFLOW_VERSION } from '../../pipeline/version.js';
import { TEST_HANDLERS, TEST_WORKFLOWS } from '../helpers/distributed-worker.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';
import { dropQueuePrefix, freePort } from '../helpers/redis-server.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import {
  cleanScratch,
  disposeWorker,
  spawnWorker,
  type WorkerProcess,
} from '../helpers/worker-process.js';

const ADMIN = 'workers-admin-key-0123';
const USER = 'workers-user-key-0123';

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Worker heartbeats with real `mediaflow worker` processes, real Redis and a real `serve` API:
 * a worker is listed with what it runs, a killed one drops out after its TTL, a stopped one at
 * once, and only admins may look.
 */
describe('GET /v1/workers (distributed)', () => {
  const redisUrl = inject('redisUrl');
  const prefix = `mfw-${crypto.randomBytes(4).toString('hex')}`;
  let s3: TestS3;
  let env: Record<string, string>;
  let serve: ServeHandle;
  let producer: DistributedApp;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    s3 = await startTestS3();
    env = {
      REDIS_URL: redisUrl,
      MEDIAFLOW_S3_ENDPOINT: s3.endpoint,
      MEDIAFLOW_S3_ACCESS_KEY_ID: 'S3RVER',
      MEDIAFLOW_S3_SECRET_ACCESS_KEY: 'S3RVER',
      MEDIAFLOW_INPUT_BUCKET: s3.bucket('in'),
      MEDIAFLOW_OUTPUT_BUCKET: s3.bucket('out'),
      MEDIAFLOW_QUEUE_PREFIX: prefix,
      MEDIAFLOW_WORKER_CONCURRENCY: '2',
      MEDIAFLOW_SHUTDOWN_GRACE_S: '2',
      MEDIAFLOW_HEARTBEAT_S: '1',
    };
    const config = loadConfig({
      ...env,
      MEDIAFLOW_API_KEYS: `user:${USER}`,
      MEDIAFLOW_ADMIN_KEYS: `root:${ADMIN}`,
      MEDIAFLOW_PORT: '0',
      MEDIAFLOW_WATCHDOG_INTERVAL_S: '0',
      MEDIAFLOW_SCRATCH_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'mfw-serve-')),
      MEDIAFLOW_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    const log = createLogger(config.logLevel);
    serve = await startServe(config, log);
    // Submits with the test workflows (serve has the production ones); never runs tasks.
    producer = await createDistributedApp(config, log, {
      handlers: TEST_HANDLERS,
      workflows: TEST_WORKFLOWS,
    });
  });
  afterAll(async () => {
    for (const worker of workers) {
      await disposeWorker(worker);
      cleanScratch(worker.scratchDir);
    }
    await serve?.close();
    await producer?.close();
    await dropQueuePrefix(redisUrl, prefix);
    await s3?.close();
  });

  const list = async (key = ADMIN) => {
    const res = await fetch(`${serve.url}/v1/workers`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return { status: res.status, body: (await res.json()) as { workers: WorkerInfo[] } };
  };
  const listed = async (pid: number) =>
    (await list()).body.workers.find((w) => w.pid === pid) ?? undefined;
  const start = async () => {
    const worker = spawnWorker('test', env);
    workers.push(worker);
    await worker.ready;
    return worker;
  };

  it('lists a worker with its host, concurrency, versions and running tasks', async () => {
    const worker = await start();
    const entry = await listed(worker.pid);
    expect(entry).toMatchObject({
      id: expect.stringContaining(`:${worker.pid}:`),
      host: os.hostname(),
      pid: worker.pid,
      concurrency: 2,
      state: 'running',
      version: MEDIAFLOW_VERSION,
      ffmpegVersion: expect.stringMatching(/^\d+\.\d+/),
      tasks: [],
    });

    // A slow job's parts show up as the worker's current tasks.
    await s3.store.putBytes(env.MEDIAFLOW_INPUT_BUCKET!, 'slow.jpg', 'SLOW 4000');
    const outcome = await producer.orchestrator.submit({
      bucket: env.MEDIAFLOW_INPUT_BUCKET!,
      key: 'slow.jpg',
    });
    if (outcome.status === 'ignored') throw new Error(outcome.reason);
    const jobId = outcome.jobId;
    const busy = await until('the worker to report its tasks', async () => {
      const now = await listed(worker.pid);
      return now && now.tasks.length === 2 ? now : undefined;
    });
    expect(busy.tasks.map((t) => t.jobId)).toEqual([jobId, jobId]);
    expect(busy.tasks.map((t) => t.taskId).every((id) => /^part-\d$/.test(id))).toBe(true);
    expect(Date.parse(busy.tasks[0]!.startedAt)).toBeLessThanOrEqual(Date.parse(busy.seenAt));
  }, 60_000);

  it('shows a worker draining its tasks after SIGTERM as stopping, until it leaves', async () => {
    // The worker of the test above, still running two 4 s parts: 2 s of grace, then released.
    const [busy] = workers;
    expect((await listed(busy!.pid))?.tasks.length).toBe(2);
    busy!.child.kill('SIGTERM');
    const stopping = await until('the worker to say it is stopping', async () => {
      const entry = await listed(busy!.pid);
      return entry?.state === 'stopping' ? entry : undefined;
    });
    expect(stopping.tasks.length).toBe(2);
    expect((await busy!.exited).code).toBe(0);
    expect(await listed(busy!.pid)).toBeUndefined();
  }, 60_000);

  it('drops a killed worker once its heartbeat lapses (three periods)', async () => {
    const worker = await start();
    const entry = (await listed(worker.pid))!;
    expect(entry).toBeDefined();
    worker.child.kill('SIGKILL');
    const killedAt = Date.now();
    await until('the killed worker to drop out', async () =>
      (await listed(worker.pid)) ? undefined : true,
    );
    const gone = Date.now() - killedAt;
    // Still listed for a while (its last beat lives 3 s), gone soon after.
    expect(gone).toBeGreaterThan(1000);
    expect(gone).toBeLessThan(5000);
    // Its id leaves the registry's index too, so the index does not grow with every dead worker.
    const redis = new Redis(redisUrl);
    expect(await redis.sismember(`${prefix}:workers`, entry.id)).toBe(0);
    redis.disconnect();
  }, 60_000);

  it('removes a worker stopped with SIGTERM as it exits', async () => {
    const worker = await start();
    expect(await listed(worker.pid)).toBeDefined();
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit, worker.output()).toEqual({ code: 0, signal: null });
    const entry = await listed(worker.pid);
    expect(entry).toBeUndefined();
  }, 60_000);

  it('refuses non-admin keys with 403, and counts live workers in the overview', async () => {
    const refused = await list(USER);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const admin = await list(ADMIN);
    expect(admin.status).toBe(200);
    const overview = (await (
      await fetch(`${serve.url}/v1/overview`, { headers: { authorization: `Bearer ${USER}` } })
    ).json()) as { liveWorkers: number | null };
    expect(overview.liveWorkers).toBe(admin.body.workers.length);
  });

  it('answers 503 QUEUE_UNAVAILABLE when Redis does not answer', async () => {
    const dead = new Redis(await freePort(), {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    dead.on('error', () => {});
    const server = await buildServer(serve.app, {
      apiKeys: [],
      adminKeys: [],
      rateLimit: false,
      workers: () => new WorkerRegistry(dead, prefix).list(),
    });
    try {
      const res = await server.inject({ url: '/v1/workers', headers: { host: '127.0.0.1' } });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: { code: 'QUEUE_UNAVAILABLE' } });
    } finally {
      await server.close();
      dead.disconnect();
    }
  });
});

describe('GET /v1/workers (embedded)', () => {
  it('lists this process, whose in-process runner is the only worker, with its tasks', async () => {
    const app = await startEmbeddedApp(
      { handlers: TEST_HANDLERS, workflows: TEST_WORKFLOWS },
      { MEDIAFLOW_WORKER_CONCURRENCY: '3' },
    );
    const server = await buildServer(app, { rateLimit: false });
    try {
      const get = async () =>
        (await server.inject({ url: '/v1/workers', headers: { host: '127.0.0.1' } })).json() as {
          workers: WorkerInfo[];
        };
      expect((await get()).workers).toEqual([
        expect.objectContaining({ pid: process.pid, concurrency: 3, tasks: [] }),
      ]);
      await app.store.putBytes(app.config.buckets.input, 'slow.jpg', 'SLOW 3000');
      await app.orchestrator.submit({ bucket: app.config.buckets.input, key: 'slow.jpg' });
      const busy = await until('the parts to run', async () => {
        const [worker] = (await get()).workers;
        return worker && worker.tasks.length === 3 ? worker : undefined;
      });
      expect(busy.tasks.map((t) => t.taskId).sort()).toEqual(['part-0', 'part-1', 'part-2']);
    } finally {
      await server.close();
      await app.close();
    }
  }, 30_000);
});
