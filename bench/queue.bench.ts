import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createApp, type App } from '../pipeline/app.js';
import { loadConfig } from '../pipeline/config/load.js';
import { createDistributedApp } from '../pipeline/distributed-app.js';
import { isFinal } from '../pipeline/jobs/job.js';
import { createLogger } from '../pipeline/log.js';
import type { Workflow } from '../pipeline/plan/types.js';
import { BullmqRunner } from '../pipeline/runner/bullmq.js';
import { BULL_PREFIX, queueNames } from '../pipeline/runner/bullmq-keys.js';
import { InProcessRunner } from '../pipeline/runner/in-process.js';
import type { Runner, RunnerHooks } from '../pipeline/runner/port.js';
import { defineHandler, type AnyTaskHandler } from '../pipeline/tasks/handler.js';
import { submitStorageEvents } from '../pipeline/triggers/submit-events.js';
import { startOwnRedis } from '../test/helpers/redis-server.js';
import { startTestS3 } from '../test/helpers/s3.js';
import type { Row } from './harness.js';

/**
 * Queue costs, in both modes, on this machine:
 * - latency from a storage event reaching `submitStorageEvents` to its job's first task starting
 *   (p50/p99), embedded (in-process runner, memory store) vs distributed (BullMQ, Redis store;
 *   the consumer runs in this process, so no process boundary is added to the figure);
 * - queue overhead per task: no-op tasks through each runner, one at a time, minus a bare loop
 *   calling the same function;
 * - throughput of no-op tasks over 1, 2 and 4 worker processes.
 * Redis is REDIS_URL, or a redis-server started here without persistence.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LATENCY_SAMPLES = 100;
const OVERHEAD_TASKS = 500;
const THROUGHPUT_STAGES = 20;
const THROUGHPUT_TASKS_PER_STAGE = 200;

export default async function run(): Promise<Row[]> {
  const own = process.env.REDIS_URL ? undefined : await startOwnRedis({ persist: false });
  const redisUrl = process.env.REDIS_URL ?? own!.url;
  try {
    return [
      ...(await latency(redisUrl)),
      ...(await overhead(redisUrl)),
      ...(await throughput(redisUrl)),
    ];
  } finally {
    await own?.close();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const prefix = () => `mfb-${crypto.randomBytes(4).toString('hex')}`;

/** One no-op task per job, which notes when it started. */
function firstTaskProbe(): {
  workflow: Workflow;
  handlers: Map<string, AnyTaskHandler>;
  started: Map<string, number>;
} {
  const started = new Map<string, number>();
  const workflow: Workflow = {
    kind: 'image',
    stageWeights: [1],
    next: (_job, done) => (done['first'] ? [] : [{ id: 'first', kind: 'first', params: {} }]),
  };
  const handler = defineHandler({
    kind: 'first',
    params: z.object({}),
    async run(_p, io) {
      started.set(io.job.id, performance.now());
      return {};
    },
  });
  return { workflow, handlers: new Map([['first', handler]]), started };
}

async function latency(redisUrl: string): Promise<Row[]> {
  const s3 = await startTestS3();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-bench-'));
  const results: Record<string, number[]> = {};
  try {
    for (const mode of ['in-process', 'bullmq'] as const) {
      const probe = firstTaskProbe();
      const env = {
        MEDIAFLOW_S3_ENDPOINT: s3.endpoint,
        MEDIAFLOW_INPUT_BUCKET: s3.bucket('in'),
        MEDIAFLOW_OUTPUT_BUCKET: s3.bucket('out'),
        MEDIAFLOW_SCRATCH_DIR: path.join(dataDir, mode),
        MEDIAFLOW_QUEUE_PREFIX: prefix(),
        MEDIAFLOW_LOG_LEVEL: 'silent',
        ...(mode === 'bullmq' ? { REDIS_URL: redisUrl } : {}),
      };
      const config = loadConfig(env);
      const overrides = {
        handlers: probe.handlers,
        workflows: new Map([['image', probe.workflow]] as const),
      };
      const app: App =
        mode === 'bullmq'
          ? await createDistributedApp(config, createLogger('silent'), {
              ...overrides,
              consume: true,
            })
          : await createApp(config, createLogger('silent'), overrides);
      const samples: number[] = [];
      try {
        for (let i = 0; i < LATENCY_SAMPLES + 5; i++) {
          const key = `lat/${i}.jpg`;
          await app.store.putBytes(config.buckets.input, key, `sample ${i}`);
          const etag = (await app.store.head(config.buckets.input, key))!.etag;
          const arrived = performance.now();
          const [outcome] = await submitStorageEvents(app.orchestrator, config.buckets.input, [
            {
              type: 'created',
              bucket: config.buckets.input,
              key,
              etag,
              versionId: undefined,
              size: 8,
              sequencer: undefined,
            },
          ]);
          const jobId = (outcome!.outcome as { jobId: string }).jobId;
          while (!probe.started.has(jobId)) await sleep(0);
          // The first five warm up connections and code paths.
          if (i >= 5) samples.push(probe.started.get(jobId)! - arrived);
          for (let j = 0; j < 500 && !isFinal((await app.jobs.get(jobId))!.state); j++)
            await sleep(2);
        }
      } finally {
        await app.close();
        if (mode === 'bullmq') await obliterate(redisUrl, config.queuePrefix);
      }
      results[mode] = samples;
    }
  } finally {
    await s3.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const rows: Row[] = [];
  for (const p of [50, 99]) {
    const base = percentile(results['in-process']!, p);
    rows.push({
      name: `event -> first task p${p}, in-process`,
      value: base,
      unit: 'ms',
      note: `${LATENCY_SAMPLES} jobs, s3rver`,
    });
    const value = percentile(results['bullmq']!, p);
    rows.push({
      name: `event -> first task p${p}, bullmq`,
      value,
      unit: 'ms',
      baseline: base,
      ratio: value / base,
      note: 'consumer in the same process',
    });
  }
  return rows;
}

const noop = async () => {};

function noopHooks(onStageDone: () => void): RunnerHooks {
  return {
    execute: async () => ({}),
    taskChanged: noop,
    taskProgress: noop,
    stageDone: async () => onStageDone(),
    stageFailed: noop,
  };
}

async function timeStage(runner: Runner, done: Promise<void>, tasks: number): Promise<number> {
  const started = performance.now();
  await runner.runStage({
    jobId: `bench${crypto.randomBytes(4).toString('hex')}`,
    stage: 1,
    tasks: Array.from({ length: tasks }, (_, i) => ({ id: `t${i}`, kind: 'noop', params: {} })),
  });
  await done;
  return performance.now() - started;
}

async function overhead(redisUrl: string): Promise<Row[]> {
  const execute = noopHooks(() => {}).execute;
  const signal = new AbortController().signal;
  const bareStart = performance.now();
  for (let i = 0; i < OVERHEAD_TASKS; i++)
    await execute('j', { id: `t${i}`, kind: 'noop', params: {} }, signal, () => {});
  const barePerTaskMs = (performance.now() - bareStart) / OVERHEAD_TASKS;

  const rows: Row[] = [];
  for (const mode of ['in-process', 'bullmq'] as const) {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const queuePrefix = prefix();
    const runner =
      mode === 'in-process'
        ? new InProcessRunner(noopHooks(resolve), {
            concurrency: 1,
            retry: { attempts: 1, backoffMs: 10 },
          })
        : new BullmqRunner(noopHooks(resolve), {
            redisUrl,
            queuePrefix,
            retry: { attempts: 1, backoffMs: 10 },
            consume: { concurrency: 1 },
            onError: () => {},
          });
    if (runner instanceof BullmqRunner) await runner.start();
    try {
      const ms = await timeStage(runner, done, OVERHEAD_TASKS);
      const perTask = ms / OVERHEAD_TASKS - barePerTaskMs;
      rows.push({
        name: `queue overhead per task, ${mode}`,
        value: perTask * 1000,
        unit: 'µs',
        baseline: barePerTaskMs * 1000,
        ratio: perTask / barePerTaskMs,
        note: `${OVERHEAD_TASKS} no-op tasks, concurrency 1, minus a bare loop (baseline)`,
      });
    } finally {
      await runner.close();
      if (mode === 'bullmq') await obliterate(redisUrl, queuePrefix);
    }
  }
  return rows;
}

function spawnBenchWorker(redisUrl: string, queuePrefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/run-ts.js', 'bench/queue-worker.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      BENCH_QUEUE_PREFIX: queuePrefix,
      BENCH_CONCURRENCY: '8',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`bench worker exited with ${code}`)));
  });
}

async function throughput(redisUrl: string): Promise<Row[]> {
  const rows: Row[] = [];
  let single = 0;
  const total = THROUGHPUT_STAGES * THROUGHPUT_TASKS_PER_STAGE;
  for (const count of [1, 2, 4]) {
    const queuePrefix = prefix();
    const workers = await Promise.all(
      Array.from({ length: count }, () => spawnBenchWorker(redisUrl, queuePrefix)),
    );
    let stagesDone = 0;
    let allDone!: () => void;
    const done = new Promise<void>((r) => (allDone = r));
    // This process enqueues and joins (stage queue); the workers run every task.
    const producer = new BullmqRunner(
      noopHooks(() => ++stagesDone === THROUGHPUT_STAGES && allDone()),
      {
        redisUrl,
        queuePrefix,
        retry: { attempts: 1, backoffMs: 10 },
        consume: { concurrency: 4, queues: { tasks: false, stages: true } },
        onError: () => {},
      },
    );
    await producer.start();
    try {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: THROUGHPUT_STAGES }, (_, s) =>
          producer.runStage({
            jobId: `tp${s}`,
            stage: 1,
            tasks: Array.from({ length: THROUGHPUT_TASKS_PER_STAGE }, (_, i) => ({
              id: `t${i}`,
              kind: 'noop',
              params: {},
            })),
          }),
        ),
      );
      await done;
      const perSecond = total / ((performance.now() - started) / 1000);
      if (count === 1) single = perSecond;
      rows.push({
        name: `no-op task throughput, ${count} worker process${count > 1 ? 'es' : ''}`,
        value: perSecond,
        unit: 'tasks/s',
        ...(count > 1 ? { baseline: single, ratio: perSecond / single } : {}),
        note:
          `${total} tasks, concurrency 8 each, ${os.availableParallelism()} cores shared with ` +
          `Redis`,
      });
    } finally {
      await producer.close();
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(
        workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))),
      );
      await obliterate(redisUrl, queuePrefix);
    }
  }
  return rows;
}

async function obliterate(redisUrl: string, queuePrefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  for (const name of Object.values(queueNames(queuePrefix))) {
    const queue = new Queue(name, { connection: redis, prefix: BULL_PREFIX });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
  const keys = await redis.keys(`${queuePrefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}
