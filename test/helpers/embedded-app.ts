import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createApp, type App, type AppOverrides } from '../../pipeline/app.js';
import { loadConfig, type Config } from '../../pipeline/config/load.js';
import { isFinal, type JobRecord } from '../../pipeline/jobs/job.js';
import { createLogger } from '../../pipeline/log.js';

/**
 * A whole embedded mediaflow (s3rver on a random port, fresh buckets and folders) for one test
 * file. `env` adds configuration variables.
 */
export async function startEmbeddedApp(
  overrides: AppOverrides = {},
  env: Record<string, string> = {},
): Promise<App & { dataDir: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-app-'));
  const id = crypto.randomBytes(3).toString('hex');
  const config: Config = loadConfig({
    MEDIAFLOW_DATA_DIR: dataDir,
    MEDIAFLOW_SCRATCH_DIR: path.join(dataDir, 'scratch'),
    MEDIAFLOW_INPUT_BUCKET: `in-${id}`,
    MEDIAFLOW_OUTPUT_BUCKET: `out-${id}`,
    MEDIAFLOW_TASK_BACKOFF_MS: '5',
    MEDIAFLOW_EMBEDDED_S3_PORT: '0',
    MEDIAFLOW_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const app = await createApp(config, createLogger(config.logLevel), overrides);
  return {
    ...app,
    dataDir,
    async close() {
      await app.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every key under a prefix of a bucket. */
export async function listKeys(app: App, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of app.store.list(bucket, prefix)) keys.push(o.key);
  return keys.sort();
}

/** Uploads `bytes` as `key` to the input bucket, submits it with `preset`, waits for the end. */
export async function submitAndWait(
  app: App,
  key: string,
  bytes: Buffer,
  preset: string,
  timeoutMs = 120_000,
): Promise<JobRecord> {
  await app.store.putBytes(app.config.buckets.input, key, bytes);
  const outcome = await app.orchestrator.submit({ bucket: app.config.buckets.input, key, preset });
  if (outcome.status === 'ignored') throw new Error(`${key} ignored: ${outcome.reason}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await app.jobs.get(outcome.jobId);
    if (job && isFinal(job.state)) return job;
    if (Date.now() > deadline) throw new Error(`job for ${key} still ${job?.state}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Downloads every output of a job under `dir`, keeping the layout under its output prefix. */
export async function downloadOutputs(app: App, job: JobRecord, dir: string): Promise<void> {
  for (const output of job.outputs) {
    const file = path.join(dir, output.key.slice(job.spec.outputPrefix.length));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await app.store.download(job.spec.outputBucket, output.key, file);
  }
}
