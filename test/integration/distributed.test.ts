import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/load.js';
import { createDistributedApp, type DistributedApp } from '../../pipeline/distributed-app.js';
import { jobView } from '../../pipeline/api/job-view.js';
import { isFinal, type JobRecord } from '../../pipeline/jobs/job.js';
import type { JobStore } from '../../pipeline/jobs/store.js';
import { createLogger } from '../../pipeline/log.js';
import { BULL_PREFIX, decodeError, queueNames } from '../../pipeline/runner/bullmq-keys.js';
import { submitStorageEvents } from '../../pipeline/triggers/submit-events.js';
import { TEST_HANDLERS, TEST_WORKFLOWS } from '../helpers/distributed-worker.js';
import {
  dropQueuePrefix,
  freePort,
  startOwnRedis,
  type OwnRedis,
} from '../helpers/redis-server.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import {
  childrenUnder,
  cleanScratch,
  disposeWorker,
  isAlive,
  spawnWorker,
  type WorkerProcess,
} from '../helpers/worker-process.js';

/**
 * Distributed mode with real parts: Redis, an S3-protocol server (s3rver) in this process, and
 * `mediaflow worker` child processes that are SIGKILLed and SIGTERMed. This process plays
 * `mediaflow serve` (a producer: it submits jobs and never runs tasks).
 */

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Polls rather than watches: pub/sub is at-most-once, and Redis goes away in one of these tests.
 */
const finished = (jobs: JobStore, id: string, timeoutMs = 40_000) =>
  until(
    `job ${id} to finish`,
    async () => {
      const job = await jobs.get(id).catch(() => null);
      return job && isFinal(job.state) ? job : undefined;
    },
    timeoutMs,
  );

interface Cluster {
  s3: TestS3;
  env: Record<string, string>;
  app: DistributedApp;
  input: string;
  output: string;
  prefix: string;
  redisUrl: string;
  close(): Promise<void>;
}

async function startCluster(
  redisUrl: string,
  s3: TestS3,
  extraEnv: Record<string, string> = {},
  testWorkflows = true,
): Promise<Cluster> {
  const input = s3.bucket('in');
  const output = s3.bucket('out');
  const prefix = `mfd-${crypto.randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    REDIS_URL: redisUrl,
    MEDIAFLOW_S3_ENDPOINT: s3.endpoint,
    MEDIAFLOW_S3_ACCESS_KEY_ID: 'S3RVER',
    MEDIAFLOW_S3_SECRET_ACCESS_KEY: 'S3RVER',
    MEDIAFLOW_INPUT_BUCKET: input,
    MEDIAFLOW_OUTPUT_BUCKET: output,
    MEDIAFLOW_QUEUE_PREFIX: prefix,
    MEDIAFLOW_WORKER_CONCURRENCY: '2',
    MEDIAFLOW_TASK_ATTEMPTS: '3',
    MEDIAFLOW_TASK_BACKOFF_MS: '50',
    MEDIAFLOW_SHUTDOWN_GRACE_S: '2',
    // One scratch root for all workers, as on one machine: orphans are found by it.
    MEDIAFLOW_SCRATCH_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'mfd-workers-')),
    ...extraEnv,
  };
  const config = loadConfig({
    ...env,
    MEDIAFLOW_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MEDIAFLOW_SCRATCH_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'mfd-producer-')),
  });
  const app = await createDistributedApp(
    config,
    createLogger(config.logLevel),
    testWorkflows ? { handlers: TEST_HANDLERS, workflows: TEST_WORKFLOWS } : {},
  );
  return {
    s3,
    env,
    app,
    input,
    output,
    prefix,
    redisUrl,
    async close() {
      await app.close();
      await dropQueuePrefix(redisUrl, prefix);
      fs.rmSync(config.scratchDir, { recursive: true, force: true });
      cleanScratch(env.MEDIAFLOW_SCRATCH_DIR!);
    },
  };
}

async function upload(c: Cluster, key: string, body: string | Buffer): Promise<string> {
  await c.s3.store.putBytes(c.input, key, body);
  const outcome = await c.app.orchestrator.submit({ bucket: c.input, key });
  if (outcome.status === 'ignored') throw new Error(`ignored: ${outcome.reason}`);
  return outcome.jobId;
}

/** The output keys of a source key, relative to `<input bucket>/<key>/`. */
async function outputsOf(c: Cluster, key: string): Promise<string[]> {
  const base = `${c.input}/${key}/`;
  return (await keysUnder(c, base)).map((k) => k.slice(base.length));
}

async function keysUnder(c: Cluster, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of c.s3.store.list(c.output, prefix)) keys.push(o.key);
  return keys.sort();
}

/** The BullMQ task job of a job's task, as BullMQ recorded it. */
async function taskJob(c: Cluster, jobId: string, stage: number, taskId: string): Promise<Job> {
  const queue = new Queue(queueNames(c.prefix).tasks, {
    connection: { url: c.redisUrl },
    prefix: BULL_PREFIX,
  });
  try {
    const job = await Job.fromId(queue, `${jobId}.${stage}.${taskId}`);
    if (!job) throw new Error(`no BullMQ job for ${jobId} ${taskId}`);
    return job;
  } finally {
    await queue.close();
  }
}

async function runningTask(c: Cluster, jobId: string, taskId: string): Promise<JobRecord> {
  return until(`task ${taskId} of ${jobId} to run`, async () => {
    const job = await c.app.jobs.get(jobId);
    return job?.tasks[taskId]?.state === 'running' ? job : undefined;
  });
}

describe('distributed mode: worker processes on shared Redis and S3', () => {
  let s3: TestS3;
  let c: Cluster;
  const workers: WorkerProcess[] = [];
  const live = () =>
    workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  const addWorker = async () => {
    const worker = spawnWorker('test', c.env);
    workers.push(worker);
    await worker.ready;
    return worker;
  };
  /** The worker running an ffmpeg, and that ffmpeg's pid, once there is one. */
  const ffmpegOwner = () =>
    until(
      'an ffmpeg to run',
      async () => {
        for (const worker of live()) {
          const [ffmpeg] = childrenUnder(worker.scratchDir, worker.pid);
          if (ffmpeg) return { worker, ffmpeg };
        }
        return undefined;
      },
      20_000,
      50,
    );

  beforeAll(async () => {
    s3 = await startTestS3();
    c = await startCluster(inject('redisUrl'), s3);
    await Promise.all([addWorker(), addWorker()]);
  });
  afterAll(async () => {
    await Promise.all(workers.map(disposeWorker));
    await c?.close();
    await s3?.close();
  });

  it('gives duplicate concurrent events one job and one set of outputs', async () => {
    await c.s3.store.putBytes(c.input, 'dup/photo.jpg', 'hello');
    const head = (await c.s3.store.head(c.input, 'dup/photo.jpg'))!;
    const event = {
      type: 'created' as const,
      bucket: c.input,
      key: 'dup/photo.jpg',
      etag: head.etag,
      versionId: undefined,
      size: 5,
      sequencer: undefined,
    };
    // Two producers (two `serve` processes) racing with four deliveries each.
    const other = await createDistributedApp(c.app.config, c.app.log, {
      handlers: TEST_HANDLERS,
      workflows: TEST_WORKFLOWS,
    });
    try {
      const outcomes = (
        await Promise.all(
          [...Array(4)].flatMap(() => [
            submitStorageEvents(c.app.orchestrator, c.input, [event]),
            submitStorageEvents(other.orchestrator, c.input, [event]),
          ]),
        )
      )
        .flat()
        .map((o) => o.outcome);
      expect(outcomes.filter((o) => o.status === 'created')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'existing')).toHaveLength(7);
      const ids = new Set(outcomes.map((o) => (o as { jobId: string }).jobId));
      expect(ids.size).toBe(1);
      const job = await finished(c.app.jobs, [...ids][0]!);
      expect(job.state).toBe('succeeded');
      expect(await outputsOf(c, 'dup/photo.jpg')).toEqual([
        'image/current.json',
        ...['manifest.json', 'part-0.txt', 'part-1.txt', 'part-2.txt'].map(
          (k) => `image/${job.spec.id}/${k}`,
        ),
      ]);
      expect(Object.values(job.tasks).map((t) => t.attempts)).toEqual([1, 1, 1, 1]);
      // Each task was queued once and started once.
      for (const [stage, task] of [
        [1, 'inspect'],
        [2, 'part-0'],
        [2, 'part-1'],
        [2, 'part-2'],
      ] as const)
        expect((await taskJob(c, job.spec.id, stage, task)).attemptsStarted).toBe(1);
      expect(await keysUnder(c, '.mediaflow-scratch/')).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it(
    'fails a permanent error at once, recording its code and ffmpeg stderr tail, and ' +
      'compensates',
    async () => {
      const id = await upload(c, 'bad/clip.mp4', 'this is not a video, whatever its name says');
      const job = await finished(c.app.jobs, id);
      expect(job.state).toBe('failed');
      expect(job.error).toMatchObject({ code: 'FFMPEG_FAILED', retryable: false });
      expect(job.error!.stderrTail).toMatch(/Invalid data|could not find codec|moov atom/i);
      expect(job.tasks['burn']).toMatchObject({ state: 'failed', attempts: 1 });
      const bull = await taskJob(c, id, 1, 'burn');
      expect(bull.attemptsStarted).toBe(1);
      expect(decodeError(bull.failedReason).code).toBe('FFMPEG_FAILED');
      expect(await keysUnder(c, `${c.input}/bad/`)).toEqual([]);
      expect(await keysUnder(c, `.mediaflow-scratch/${id}/`)).toEqual([]);
    },
  );

  it(
    'survives kill -9 of the worker mid-transcode: another worker takes the task over, no ' +
      'ffmpeg is orphaned, one set of outputs',
    async () => {
      // 10 s of real-time encoding: an ffmpeg that is gone within 3 s of the kill did not just
      // finish.
      const id = await upload(c, 'kill/clip.mp4', 'BURN 10');
      await runningTask(c, id, 'burn');
      const { worker: victim, ffmpeg } = await ffmpegOwner();
      const survivor = live().find((w) => w !== victim)!;
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
      // ffmpeg leads its own process group, so the kill does not reach it; the survivor's reaper
      // must.
      await until('the dead worker’s ffmpeg to be killed', async () => !isAlive(ffmpeg), 3_000, 50);
      expect(survivor.output()).toContain('killed media processes orphaned by a dead worker');
      // The survivor's stalled check finds the task once the dead worker's lock lapses.
      await until(
        'the survivor to run ffmpeg',
        async () => childrenUnder(survivor.scratchDir, survivor.pid).length > 0,
        15_000,
        50,
      );
      const job = await finished(c.app.jobs, id);
      expect(job.state).toBe('succeeded');
      expect(await outputsOf(c, 'kill/clip.mp4')).toEqual([
        'video/current.json',
        `video/${id}/burn.mp4`,
        `video/${id}/manifest.json`,
      ]);
      expect(job.outputs.map((o) => o.key)).toEqual([
        `${c.input}/kill/clip.mp4/video/${id}/burn.mp4`,
      ]);
      // Started twice, one stall counted, one attempt made (BullMQ counts finished attempts).
      const bull = await taskJob(c, id, 1, 'burn');
      expect(bull.attemptsStarted).toBe(2);
      expect(bull.stalledCounter).toBe(1);
      expect(bull.attemptsMade).toBe(1);
      await addWorker();
    },
  );

  it(
    'SIGTERM: a task that ends within the grace period ' + 'finishes on that worker, which exits 0',
    async () => {
      const id = await upload(c, 'term/short.mp4', 'BURN 1');
      await runningTask(c, id, 'burn');
      const { worker } = await ffmpegOwner();
      worker.child.kill('SIGTERM');
      expect((await worker.exited).code).toBe(0);
      const job = await finished(c.app.jobs, id);
      expect(job.state).toBe('succeeded');
      const bull = await taskJob(c, id, 1, 'burn');
      expect(bull.attemptsStarted).toBe(1);
      expect(worker.output()).toContain('"msg":"worker stopped"');
      await addWorker();
    },
  );

  it(
    'SIGTERM: past the grace period the task is aborted, its ffmpeg killed, and handed back at ' +
      'once without spending an attempt',
    async () => {
      const id = await upload(c, 'term/long.mp4', 'BURN 6');
      await runningTask(c, id, 'burn');
      const { worker, ffmpeg } = await ffmpegOwner();
      const signalled = Date.now();
      worker.child.kill('SIGTERM');
      expect((await worker.exited).code).toBe(0);
      // Grace is 2 s; the abort and hand-back take well under a second more.
      expect(Date.now() - signalled).toBeLessThan(6_000);
      expect(isAlive(ffmpeg)).toBe(false);
      expect(worker.output()).toContain('grace period over');
      const job = await finished(c.app.jobs, id);
      expect(job.state).toBe('succeeded');
      const bull = await taskJob(c, id, 1, 'burn');
      // Released, not stalled: started twice, no stall counted, and only the finished attempt
      // counted (BullMQ counts an attempt when it ends; the released one did not end).
      expect(bull.attemptsStarted).toBe(2);
      expect(bull.stalledCounter).toBe(0);
      expect(bull.attemptsMade).toBe(1);
      expect(job.tasks['burn']!.attempts).toBe(1);
      expect(await outputsOf(c, 'term/long.mp4')).toEqual([
        'video/current.json',
        `video/${id}/burn.mp4`,
        `video/${id}/manifest.json`,
      ]);
    },
  );
});

describe('distributed mode: a Redis restart', () => {
  let s3: TestS3;
  let redis: OwnRedis;
  let c: Cluster;
  let worker: WorkerProcess;

  beforeAll(async () => {
    s3 = await startTestS3();
    redis = await startOwnRedis();
    c = await startCluster(redis.url, s3);
    worker = spawnWorker('test', c.env);
    await worker.ready;
  });
  afterAll(async () => {
    if (worker) await disposeWorker(worker);
    await c?.close();
    await redis?.close();
    await s3?.close();
  });

  it(
    'workers resume without a restart, a job in flight completes, and readiness reports the ' +
      'outage',
    async () => {
      expect((await finished(c.app.jobs, await upload(c, 'before.jpg', 'hello'))).state).toBe(
        'succeeded',
      );
      const inFlight = await upload(c, 'during/clip.mp4', 'BURN 4');
      await runningTask(c, inFlight, 'burn');

      await redis.stop();
      await expect(c.app.readiness.redis!()).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
      await expect(c.app.readiness.jobs!()).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
      await sleep(1500);
      await redis.start();
      await until(
        'readiness to recover',
        async () => {
          try {
            await c.app.readiness.redis!();
            await c.app.readiness.jobs!();
            return true;
          } catch {
            return false;
          }
        },
        15_000,
      );

      expect((await finished(c.app.jobs, inFlight, 60_000)).state).toBe('succeeded');
      expect(await outputsOf(c, 'during/clip.mp4')).toEqual([
        'video/current.json',
        `video/${inFlight}/burn.mp4`,
        `video/${inFlight}/manifest.json`,
      ]);
      const after = await finished(c.app.jobs, await upload(c, 'after.jpg', 'hello again'), 60_000);
      expect(after.state).toBe('succeeded');
      expect(worker.child.exitCode).toBeNull();
      expect(worker.output()).not.toContain('"level":60');
    },
  );
});

describe('distributed mode: the real `mediaflow worker` command', () => {
  let s3: TestS3;
  let c: Cluster;
  let worker: WorkerProcess;

  beforeAll(async () => {
    s3 = await startTestS3();
    // Production workflows in the producer, production handlers in the worker.
    c = await startCluster(inject('redisUrl'), s3, {}, false);
    worker = spawnWorker('cli', c.env);
    await worker.ready;
  });
  afterAll(async () => {
    if (worker) await disposeWorker(worker);
    await c?.close();
    await s3?.close();
  });

  it(
    'processes a real photo with the production image workflow, then stops on SIGTERM with ' +
      'exit 0',
    async () => {
      const id = await upload(
        c,
        'photos/photo.jpg',
        fs.readFileSync(path.join(import.meta.dirname, '../../samples/photo.jpg')),
      );
      const job = await finished(c.app.jobs, id, 60_000);
      expect(job.error).toBeUndefined();
      expect(job.state).toBe('succeeded');
      expect(job.outputs.length).toBeGreaterThan(0);
      const keys = await keysUnder(c, job.spec.outputPrefix);
      expect(keys).toEqual(
        [...job.outputs.map((o) => o.key), `${job.spec.outputPrefix}manifest.json`].sort(),
      );
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
    },
  );
});

describe('distributed mode: the stall limit', () => {
  let s3: TestS3;
  let c: Cluster;
  const workers: WorkerProcess[] = [];
  const addWorker = async () => {
    const worker = spawnWorker('test', c.env);
    workers.push(worker);
    await worker.ready;
    return worker;
  };

  beforeAll(async () => {
    s3 = await startTestS3();
    // A stall limit of 0: the first worker death while running the task reaches it.
    c = await startCluster(inject('redisUrl'), s3, { TEST_MAX_STALLED: '0' });
  });
  afterAll(async () => {
    for (const worker of workers) await disposeWorker(worker);
    await c?.close();
    await s3?.close();
  });

  it('fails the job with TASK_STALLED, and no task view says running', async () => {
    const victim = await addWorker();
    const id = await upload(c, 'stall/clip.mp4', 'BURN 10');
    await runningTask(c, id, 'burn');
    victim.child.kill('SIGKILL');
    await victim.exited;
    await addWorker();
    const job = await finished(c.app.jobs, id, 40_000);
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ code: 'TASK_STALLED', retryable: false });
    expect(job.tasks['burn']).toMatchObject({ state: 'failed', error: { code: 'TASK_STALLED' } });
    expect(jobView(job).tasks.filter((t) => t.state === 'running' || t.state === 'queued')).toEqual(
      [],
    );
    expect(await outputsOf(c, 'stall/clip.mp4')).toEqual([]);
    expect(await keysUnder(c, `.mediaflow-scratch/${id}/`)).toEqual([]);
  });
});

describe('distributed mode: a worker started while storage is down', () => {
  let s3: TestS3;
  let c: Cluster;
  let worker: WorkerProcess | undefined;
  let proxy: net.Server | undefined;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    s3 = await startTestS3();
    c = await startCluster(inject('redisUrl'), s3);
  });
  afterAll(async () => {
    if (worker) await disposeWorker(worker);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    await c?.close();
    await s3?.close();
  });

  it('waits for storage instead of exiting, then runs jobs', async () => {
    // The worker's storage is a port where nothing listens yet; later a proxy to s3rver opens it.
    const port = await freePort();
    worker = spawnWorker('test', {
      ...c.env,
      MEDIAFLOW_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    await until('the worker to wait for storage', async () =>
      worker!.output().includes('waiting for it'),
    );
    await sleep(2_000);
    expect(isAlive(worker.pid)).toBe(true);
    const target = new URL(s3.endpoint);
    proxy = net.createServer((socket) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => sockets.delete(s));
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => proxy!.listen(port, '127.0.0.1', resolve));
    await worker.ready;
    const job = await finished(c.app.jobs, await upload(c, 'late/photo.jpg', 'hello'));
    expect(job.state).toBe('succeeded');
  });
});
