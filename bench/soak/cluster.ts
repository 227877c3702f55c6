import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, startOwnRedis, type OwnRedis } from '../../test/helpers/redis-server.js';
import { spawnWorker, type WorkerProcess } from '../../test/helpers/worker-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const WEBHOOK_TOKEN = 'soak-webhook-token-0123456789';
export const ADMIN_KEY = 'soak-admin-key-0123456789';

/** A child process whose output is kept (the tail goes into the report when something breaks). */
interface Child {
  child: ChildProcess;
  output(): string;
}

function spawnLogged(args: string[], env: Record<string, string>, readyText: string) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-200_000);
      if (output.includes(readyText)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}):\n${output.slice(-3000)}`)),
    );
  });
  return { child, output: () => output, ready };
}

/**
 * Everything the soak runs, all private: Redis (append-only file in a temp dir, so a restart keeps
 * the data), s3rver in its own process, one `mediaflow serve` and three `mediaflow worker`s.
 */
export interface Cluster {
  redis: OwnRedis;
  env: Record<string, string>;
  input: string;
  output: string;
  apiUrl: string;
  scratchDir: string;
  workers: WorkerProcess[];
  /** Workers killed so far, kept for their logs. */
  retired: WorkerProcess[];
  serve: Child;
  /** Deaths of serve (it is never killed on purpose). */
  serveExits: number;
  stopS3(): Promise<void>;
  startS3(): Promise<void>;
  /** kill -9 one worker and start a fresh one in its place. */
  killWorker(index: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCluster(workerCount: number): Promise<Cluster> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-soak-'));
  const redis = await startOwnRedis();
  const s3Port = await freePort();
  const s3Dir = path.join(tmp, 's3');
  let s3: ReturnType<typeof spawnLogged> | undefined;
  const startS3 = async () => {
    s3 = spawnLogged(
      ['bin/run-ts.js', 'bench/soak/s3-server.ts', s3Dir, String(s3Port)],
      {},
      's3 ready',
    );
    await s3.ready;
  };
  const stopS3 = async () => {
    if (!s3 || s3.child.exitCode !== null || s3.child.signalCode !== null) return;
    const exited = new Promise((resolve) => s3!.child.once('exit', resolve));
    s3.child.kill('SIGKILL');
    await exited;
  };
  await startS3();
  const scratchDir = path.join(tmp, 'scratch');
  fs.mkdirSync(scratchDir);
  const apiPort = await freePort();
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    MEDIAFLOW_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    MEDIAFLOW_S3_ACCESS_KEY_ID: 'S3RVER',
    MEDIAFLOW_S3_SECRET_ACCESS_KEY: 'S3RVER',
    MEDIAFLOW_INPUT_BUCKET: 'soak-in',
    MEDIAFLOW_OUTPUT_BUCKET: 'soak-out',
    MEDIAFLOW_QUEUE_PREFIX: 'soak',
    MEDIAFLOW_WORKER_CONCURRENCY: '1',
    MEDIAFLOW_SHUTDOWN_GRACE_S: '5',
    // The watchdog and the scratch sweep run often enough to matter within a short soak.
    MEDIAFLOW_WATCHDOG_INTERVAL_S: '5',
    MEDIAFLOW_WATCHDOG_GRACE_S: '30',
    MEDIAFLOW_SCRATCH_DIR: scratchDir,
    MEDIAFLOW_LOG_LEVEL: 'info',
  };
  const serveEnv = {
    ...env,
    MEDIAFLOW_PORT: String(apiPort),
    MEDIAFLOW_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    MEDIAFLOW_ADMIN_KEYS: `soak:${ADMIN_KEY}`,
    MEDIAFLOW_SCRATCH_DIR: path.join(tmp, 'serve-scratch'),
  };
  const serve = spawnLogged(['bin/mediaflow.js', 'serve'], serveEnv, 'API and dashboard on');
  let serveExits = 0;
  serve.child.once('exit', () => serveExits++);
  const workers: WorkerProcess[] = [];
  const retired: WorkerProcess[] = [];
  for (let i = 0; i < workerCount; i++) workers.push(spawnWorker('cli', env));
  await Promise.all([serve.ready, ...workers.map((w) => w.ready)]);
  const cluster: Cluster = {
    redis,
    env,
    input: env.MEDIAFLOW_INPUT_BUCKET!,
    output: env.MEDIAFLOW_OUTPUT_BUCKET!,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    scratchDir,
    workers,
    retired,
    serve,
    get serveExits() {
      return serveExits;
    },
    stopS3,
    startS3,
    async killWorker(index) {
      const old = workers[index]!;
      old.child.kill('SIGKILL');
      await old.exited;
      retired.push(old);
      // Not awaited ready: a worker started during an outage waits for it, as under a supervisor.
      workers[index] = spawnWorker('cli', env);
      workers[index]!.ready.catch(() => {});
    },
    async close() {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
      await Promise.race([Promise.all(workers.map((w) => w.exited)), sleep(10_000)]);
      for (const w of workers) w.child.kill('SIGKILL');
      if (serve.child.exitCode === null && serve.child.signalCode === null) {
        const exited = new Promise((r) => serve.child.once('exit', r));
        serve.child.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        serve.child.kill('SIGKILL');
      }
      await stopS3();
      await redis.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  return cluster;
}
