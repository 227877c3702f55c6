import crypto from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Redis } from 'ioredis';
import { MemoryIdempotencyStore, RedisIdempotencyStore } from '../pipeline/api/idempotency.js';
import { JOB_STATES, type TaskStatus } from '../pipeline/jobs/job.js';
import { RedisJobStore } from '../pipeline/jobs/redis-store.js';
import type { JobStore } from '../pipeline/jobs/store.js';
import type { OutputRecord } from '../pipeline/plan/types.js';
import { jobRecord } from '../test/helpers/job-record.js';
import { startOwnRedis } from '../test/helpers/redis-server.js';
import { bestOf, type Row } from './harness.js';

/**
 * State over time (issue 11): 10,000 jobs through the Redis job store with retention, against the
 * same jobs kept forever (the baseline, MEDIAFLOW_JOB_RETENTION_DAYS=0), on a private Redis so
 * used_memory is this bench's alone. The store's clock is simulated, one job a minute with a
 * one-day retention, so jobs expire during the run: about 1,440 are kept at any time. Then
 * `counts()` against paging through the store (what `/metrics` did before), and the idempotency
 * answers of 100 batches of 1,000 items, packed against kept as they were (plain JSON in Redis, a
 * structured clone in memory).
 */
const JOBS = Number(process.env.BENCH_STATE_JOBS ?? 10_000);
const AT_ONCE = 16;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** JavaScript heap and the Buffers outside it (where compressed answers live), after gc. */
function heapBytes(): number {
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

function output(id: string, i: number): OutputRecord {
  return {
    key: `uploads/${id}.jpg/image/w${320 * (i + 1)}.webp`,
    bytes: 20_000 + i,
    sha256: crypto.createHash('sha256').update(`${id}${i}`).digest('hex'),
    contentType: 'image/webp',
    role: 'image',
    width: 320 * (i + 1),
    height: 240 * (i + 1),
  };
}

/** One image job from creation to success, as the orchestrator and a runner write it. */
async function runJob(store: JobStore, n: number, at: number): Promise<void> {
  const id = `bench-${String(n).padStart(6, '0')}-${crypto.randomBytes(8).toString('hex')}`;
  const task = (state: TaskStatus['state']): TaskStatus => ({
    kind: 'image',
    stage: 1,
    state,
    progress: state === 'succeeded' ? 1 : 0,
    attempts: 1,
    order: 0,
  });
  const job = jobRecord(new Date(at).toISOString(), { tasks: { image: task('queued') } }, id);
  const outputs = [0, 1, 2].map((i) => output(id, i));
  await store.create(job);
  await store.setState(id, { state: 'running', stage: 1 });
  await store.setTask(id, 'image', task('running'));
  await store.recordWrites(
    id,
    outputs.map((o) => o.key),
  );
  await store.putResults(id, { image: { outputs } });
  await store.setTask(id, 'image', task('succeeded'));
  await store.setState(id, { state: 'succeeded', outputs });
}

interface Growth {
  /** used_memory after every 2,000 jobs, minus before the first. */
  redis: number[];
  /** This process's heap and buffers after every 2,000 jobs, minus before the first. */
  heap: number[];
  store: RedisJobStore;
}

async function runJobs(url: string, prefix: string, retentionMs: number): Promise<Growth> {
  let clock = Date.now();
  const store = new RedisJobStore(url, prefix, undefined, { retentionMs, now: () => clock });
  const redis = new Redis(url);
  const redisBefore = await usedMemory(redis);
  const heapBefore = heapBytes();
  const growth: number[] = [];
  const heap: number[] = [];
  for (let n = 0; n < JOBS; n += AT_ONCE) {
    await Promise.all(
      Array.from({ length: AT_ONCE }, (_, i) => runJob(store, n + i, clock + i * MINUTE)),
    );
    clock += AT_ONCE * MINUTE;
    if ((n + AT_ONCE) % 2000 < AT_ONCE) {
      growth.push((await usedMemory(redis)) - redisBefore);
      heap.push(heapBytes() - heapBefore);
    }
  }
  redis.disconnect();
  return { redis: growth, heap, store };
}

/** How `/metrics` counted before `counts()`: pages of 200 per state, up to 10,000 each. */
async function pagedCounts(store: JobStore): Promise<number> {
  let total = 0;
  for (const state of JOB_STATES) {
    let cursor: string | undefined;
    let count = 0;
    do {
      const page = await store.list({ state, limit: 200, ...(cursor ? { cursor } : {}) });
      count += page.jobs.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor && count < 10_000);
    total += count;
  }
  return total;
}

/** A batch answer as `POST /v1/jobs` gives it: a job id and an outcome per item. */
function batchAnswer(batch: number, items = 1000) {
  const ids = Array.from({ length: items }, (_, i) =>
    crypto.createHash('sha256').update(`${batch}/${i}`).digest('hex').slice(0, 40),
  );
  return {
    jobIds: ids,
    items: ids.map((jobId, i) => ({
      bucket: 'mediaflow-input',
      key: `uploads/batch-${batch}/photo-${String(i).padStart(5, '0')}.jpg`,
      jobId,
      preset: 'image',
      status: 'created',
    })),
  };
}

async function idempotencyRows(url: string): Promise<Row[]> {
  const redis = new Redis(url);
  const fingerprint = 'f'.repeat(64);
  const packedStore = new RedisIdempotencyStore(redis, 'packed:');
  let before = await usedMemory(redis);
  for (let b = 0; b < 100; b++) {
    await packedStore.begin(`k${b}`, fingerprint);
    await packedStore.complete(`k${b}`, fingerprint, { status: 202, body: batchAnswer(b) });
  }
  const packed = (await usedMemory(redis)) - before;
  before = await usedMemory(redis);
  for (let b = 0; b < 100; b++) {
    const value = JSON.stringify({ fingerprint, response: { status: 202, body: batchAnswer(b) } });
    await redis.set(`plain:k${b}`, value, 'PX', DAY);
  }
  const plain = (await usedMemory(redis)) - before;
  redis.disconnect();

  let heapBefore = heapBytes();
  const memoryStore = new MemoryIdempotencyStore();
  for (let b = 0; b < 100; b++) {
    await memoryStore.begin(`k${b}`, fingerprint);
    await memoryStore.complete(`k${b}`, fingerprint, { status: 202, body: batchAnswer(b) });
  }
  const packedHeap = heapBytes() - heapBefore;
  heapBefore = heapBytes();
  const clones = new Map<string, unknown>();
  for (let b = 0; b < 100; b++)
    clones.set(`k${b}`, structuredClone({ status: 202, body: batchAnswer(b) }));
  const cloneHeap = heapBytes() - heapBefore;
  clones.clear();
  const MB = 1024 * 1024;
  return [
    {
      name: 'idempotency: Redis bytes, 100 answers of 1,000 items',
      value: packed / MB,
      unit: 'MiB',
      baseline: plain / MB,
      ratio: packed / plain,
      note: 'compressed vs plain JSON',
    },
    {
      name: 'idempotency: heap, same 100 answers in the memory store',
      value: packedHeap / MB,
      unit: 'MiB',
      baseline: cloneHeap / MB,
      ratio: packedHeap / cloneHeap,
      note: `compressed (${(memoryStore.storedBytes / MB).toFixed(1)} MiB counted) vs a clone each`,
    },
  ];
}

export default async function stateBench(): Promise<Row[]> {
  const own = await startOwnRedis({ persist: false });
  try {
    const kept = await runJobs(own.url, 'retained:', DAY);
    const forever = await runJobs(own.url, 'forever:', 0);
    const MB = 1024 * 1024;
    const last = (g: Growth) => g.redis.at(-1)! / MB;
    // From the first checkpoint on: past warm-up (the process) and the first expiries (Redis).
    const plateau = (series: number[]) => (series.at(-1)! - series[0]!) / MB;
    const counts = await bestOf(20, () => forever.store.counts());
    const paged = await bestOf(3, () => pagedCounts(forever.store));
    await kept.store.close();
    await forever.store.close();
    const every = (g: Growth) => g.redis.map((b) => (b / MB).toFixed(1)).join(' / ');
    return [
      {
        name: `Redis used_memory growth over ${JOBS} jobs`,
        value: last(kept),
        unit: 'MiB',
        baseline: last(forever),
        ratio: last(kept) / last(forever),
        note:
          '1-day retention vs kept forever; every 2,000 jobs: ' +
          `${every(kept)} vs ${every(forever)}`,
      },
      {
        name: 'Redis growth from job 2,000 to the last',
        value: plateau(kept.redis),
        unit: 'MiB',
        baseline: plateau(forever.redis),
        ratio: plateau(kept.redis) / plateau(forever.redis),
        note: 'flat once the first jobs expire',
      },
      {
        name: 'process heap + buffers growth from job 2,000 to the last',
        value: plateau(kept.heap),
        unit: 'MiB',
        baseline: plateau(forever.heap),
        note: 'after gc; the Redis store holds no job in the process (no ratio: both about 0)',
      },
      {
        name: `job counts at ${JOBS} jobs kept`,
        value: counts * 1000,
        unit: 'ms',
        baseline: paged * 1000,
        ratio: counts / paged,
        note: 'counts() (ZCARD per state) vs paging every state, as /metrics did',
      },
      ...(await idempotencyRows(own.url)),
    ];
  } finally {
    await own.close();
  }
}
