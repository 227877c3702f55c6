import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { EMBEDDED_CREDENTIALS } from '../../pipeline/storage/embedded-s3.js';
import { S3Store } from '../../pipeline/storage/s3-store.js';
import { minioNotification } from '../../test/helpers/minio-events.js';
import { pgrep } from '../../test/helpers/worker-process.js';
import { runChaos, type ChaosCounts } from './chaos.js';
import { ADMIN_KEY, startCluster, WEBHOOK_TOKEN, type Cluster } from './cluster.js';
import { makeInputs, type SoakInput } from './inputs.js';
import { judge, type JobSeen, type SoakReport } from './report.js';

/**
 * `npm run soak [-- --uploads N --json]`: a chaos soak of distributed mode (issue 11 §6). Uploads
 * N mixed inputs, delivers every event twice, and meanwhile kills workers, drops Redis
 * connections, restarts Redis and stops storage; then checks that every upload has exactly one
 * job in a terminal state, and that nothing is left behind. Exits 1 when an invariant broke.
 */
const { values } = parseArgs({
  options: {
    uploads: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
    'kill-every-s': { type: 'string', default: '5' },
    'upload-every-ms': { type: 'string', default: '500' },
    'settle-s': { type: 'string', default: '150' },
    'timeout-s': { type: 'string', default: '1800' },
  },
});
const uploads = Number(values.uploads);
const log = (line: string) =>
  process.stderr.write(`[soak ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const t0 = Date.now();

/** Retries `fn` until it succeeds: storage and the API go away on purpose during the soak. */
async function persist<T>(what: string, fn: () => Promise<T>, deadlineMs = 600_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 3000)) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > until) throw new Error(`${what}: ${(error as Error).message}`);
      await sleep(delay);
    }
  }
}

async function api(cluster: Cluster, url: string, init: RequestInit = {}, token = ADMIN_KEY) {
  const response = await fetch(cluster.apiUrl + url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status}`);
  return response.json() as Promise<unknown>;
}

/** One delivery as MinIO makes it: retried until the webhook answers 2xx (or 4xx: a bug). */
async function deliver(cluster: Cluster, input: SoakInput, etag: string, failures: string[]) {
  const body = JSON.stringify(
    minioNotification(cluster.input, input.key, { etag, size: input.body.length }),
  );
  await persist(`deliver ${input.key}`, async () => {
    const response = await fetch(`${cluster.apiUrl}/v1/events/s3`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
    if (response.status >= 400 && response.status < 500)
      failures.push(`${input.key}: webhook answered ${response.status} ${await response.text()}`);
    else if (!response.ok) throw new Error(String(response.status));
  });
}

/** Every job, from the admin job list (a page at a time). */
async function listJobs(cluster: Cluster): Promise<JobSeen[]> {
  const jobs: JobSeen[] = [];
  let cursor: string | null = null;
  do {
    const page = (await api(
      cluster,
      `/v1/jobs?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    )) as { jobs: JobSeen[]; nextCursor: string | null };
    jobs.push(...page.jobs);
    cursor = page.nextCursor;
  } while (cursor);
  return jobs;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const allEnded = (inputs: SoakInput[], jobs: JobSeen[]) =>
  inputs.every((i) => jobs.some((j) => j.source.key === i.key && FINAL.has(j.state)));

async function soak(cluster: Cluster, store: S3Store, inputs: SoakInput[]): Promise<SoakReport> {
  const started = Date.now();
  await persist('input bucket', () => store.ensureBucket(cluster.input));
  const stopChaos = new AbortController();
  const chaos: Promise<ChaosCounts> = runChaos(
    cluster,
    {
      killEveryS: Number(values['kill-every-s']),
      redisRestartsAtS: [20, 60],
      s3OutageAtS: 35,
      s3OutageS: 15,
    },
    stopChaos.signal,
    log,
  );
  const webhookFailures: string[] = [];
  const deliveries: Promise<void>[] = [];
  for (const input of inputs) {
    const info = await persist(`upload ${input.key}`, async () => {
      await store.putBytes(cluster.input, input.key, input.body);
      const head = await store.head(cluster.input, input.key);
      if (!head) throw new Error('not there after the upload');
      return head;
    });
    // Every event twice: once now, once more up to 5 s later (a redelivery).
    deliveries.push(deliver(cluster, input, info.etag, webhookFailures));
    deliveries.push(
      sleep(Math.random() * 5000).then(() => deliver(cluster, input, info.etag, webhookFailures)),
    );
    await sleep(Number(values['upload-every-ms']));
  }
  log(`${inputs.length} uploaded`);
  await Promise.all(deliveries);
  log('every event delivered twice');

  // Chaos goes on until every upload has ended and the scheduled outages have happened.
  const deadline = started + Number(values['timeout-s']) * 1000;
  let jobs: JobSeen[] = [];
  for (;;) {
    jobs = await listJobs(cluster).catch(() => jobs);
    const ended = jobs.filter((j) => FINAL.has(j.state)).length;
    const elapsed = (Date.now() - started) / 1000;
    if ((allEnded(inputs, jobs) && elapsed > 75) || Date.now() > deadline) break;
    log(`${ended}/${inputs.length} ended, ${jobs.length} jobs`);
    await sleep(5000);
  }
  stopChaos.abort();
  const counts = await chaos;
  log(`chaos over: ${JSON.stringify(counts)}; settling`);
  const settleUntil = Date.now() + Number(values['settle-s']) * 1000;
  while (Date.now() < settleUntil) {
    jobs = await listJobs(cluster).catch(() => jobs);
    if (allEnded(inputs, jobs)) break;
    await sleep(3000);
  }
  jobs = await persist('job list', () => listJobs(cluster), 60_000);
  const views = new Map<string, JobSeen>();
  for (const job of jobs) {
    const view = await persist(`job ${job.id}`, () => api(cluster, `/v1/jobs/${job.id}`), 60_000);
    views.set(job.id, view as JobSeen);
  }

  // Scratch of ended jobs is swept by serve's watchdog: give it a few rounds.
  const scratchPrefix = '.mediaflow-scratch/';
  let scratch: string[] = [];
  for (let i = 0; i < 10; i++) {
    scratch = [];
    for await (const o of store.list(cluster.output, scratchPrefix)) scratch.push(o.key);
    if (scratch.length === 0) break;
    await sleep(3000);
  }
  // Every media process has a path under the workers' scratch root in its arguments.
  await sleep(2000);
  const orphans = pgrep(cluster.scratchDir);
  return judge({
    inputs,
    views: [...views.values()],
    counts,
    webhookFailures,
    scratch,
    orphans,
    serveExits: cluster.serveExits,
    wallSeconds: (Date.now() - started) / 1000,
  });
}

function saveLogs(cluster: Cluster): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-soak-logs-'));
  fs.writeFileSync(path.join(dir, 'serve.log'), cluster.serve.output());
  for (const [i, w] of [...cluster.retired, ...cluster.workers].entries())
    fs.writeFileSync(path.join(dir, `worker-${i}-${w.pid}.log`), w.output());
  return dir;
}

function formatReport(r: SoakReport): string {
  const lines = r.uploads.map(
    (u) =>
      `${u.ok ? 'ok  ' : 'FAIL'} ${u.key.padEnd(28)} ${u.kind.padEnd(7)} jobs=${u.jobs} ` +
      `${u.state ?? '-'}${u.code ? ` ${u.code}` : ''}${u.problem ? `  <- ${u.problem}` : ''}`,
  );
  const t = r.totals;
  return [
    ...lines,
    '',
    `uploads ${t.uploads}, succeeded ${t.succeeded}, failed (typed) ${t.failedTyped}, ` +
      `failed (untyped) ${t.failedUntyped}, stuck ${t.stuck}, duplicates ${t.duplicates}, ` +
      `missing ${t.missing}`,
    `leftover scratch objects ${t.leftoverScratch}, orphan ffmpeg ${t.orphanProcesses}, ` +
      `serve exits ${t.serveExits}, wall ${t.wallSeconds.toFixed(0)} s`,
    `chaos: ${r.chaos.workerKills} worker kill -9s, ${r.chaos.clientKills} Redis client drops, ` +
      `${r.chaos.redisRestarts} Redis restarts, ${r.chaos.s3Outages} storage outage(s)`,
    `logs: ${r.logs}`,
    r.ok ? 'soak: every invariant held' : `soak: BROKEN\n  ${r.violations.join('\n  ')}`,
  ].join('\n');
}

async function main(): Promise<boolean> {
  const inputs = await makeInputs(uploads);
  log(`${inputs.length} inputs made; starting Redis, s3rver, serve and 3 workers`);
  const cluster = await startCluster(3);
  // Interrupted, the soak still stops what it started: nothing it spawned outlives it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      log(`${signal}: stopping the cluster`);
      void cluster.close().finally(() => process.exit(130));
    });
  log('cluster up; uploading');
  const store = new S3Store({
    endpoint: cluster.env.MEDIAFLOW_S3_ENDPOINT!,
    region: 'us-east-1',
    forcePathStyle: true,
    ...EMBEDDED_CREDENTIALS,
  });
  let report: SoakReport | undefined;
  try {
    report = await soak(cluster, store, inputs);
  } finally {
    const logs = saveLogs(cluster);
    store.destroy();
    await cluster.close();
    if (report) {
      report.logs = logs;
      process.stdout.write(
        values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`,
      );
    }
  }
  return report?.ok ?? false;
}

process.exit((await main()) ? 0 : 1);
