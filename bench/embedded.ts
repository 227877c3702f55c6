import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App } from '../pipeline/app.js';
import { loadConfig } from '../pipeline/config/load.js';
import type { JobRecord } from '../pipeline/jobs/job.js';
import { waitForJobs } from '../pipeline/jobs/wait.js';
import { createLogger } from '../pipeline/log.js';
import { contentTypeFor } from '../pipeline/storage/content-type.js';

/**
 * A throwaway embedded mediaflow for one benchmark, with default settings unless `env` says
 * otherwise.
 */
export async function benchApp(
  env: Record<string, string> = {},
): Promise<App & { dispose(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-bench-'));
  const config = loadConfig({
    ...process.env,
    MEDIAFLOW_DATA_DIR: dataDir,
    MEDIAFLOW_SCRATCH_DIR: path.join(dataDir, 'scratch'),
    MEDIAFLOW_LOG_LEVEL: 'warn',
    MEDIAFLOW_EMBEDDED_S3_PORT: '0',
    ...env,
  });
  const app = await createApp(config, createLogger(config.logLevel));
  return {
    ...app,
    async dispose() {
      await app.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TaskTiming {
  id: string;
  kind: string;
  start: number;
  end: number;
}

/**
 * Uploads a file and runs it through the pipeline; returns the job and when each task ran (ms since
 * upload).
 */
export async function runThroughPipeline(
  app: App,
  file: string,
  key: string,
  preset?: string,
): Promise<{ job: JobRecord; timings: TaskTiming[]; seconds: number }> {
  const t0 = performance.now();
  const timings = new Map<string, TaskTiming>();
  const stop = app.jobs.watch((e) => {
    if (e.type !== 'task') return;
    const now = performance.now() - t0;
    if (e.status.state === 'running' && !timings.has(e.taskId))
      timings.set(e.taskId, { id: e.taskId, kind: e.status.kind, start: now, end: now });
    if (e.status.state === 'succeeded') {
      const t = timings.get(e.taskId);
      if (t) t.end = now;
    }
  });
  await app.store.upload(app.config.buckets.input, key, file, {
    contentType: contentTypeFor(file),
  });
  const outcome = await app.orchestrator.submit({
    bucket: app.config.buckets.input,
    key,
    ...(preset ? { preset } : {}),
  });
  if (outcome.status === 'ignored') throw new Error(`submission ignored: ${outcome.reason}`);
  const [job] = await waitForJobs(app.jobs, [outcome.jobId]);
  stop();
  if (job!.state !== 'succeeded')
    throw new Error(`job ${job!.state}: ${job!.error?.code} ${job!.error?.message}`);
  return { job: job!, timings: [...timings.values()], seconds: (performance.now() - t0) / 1000 };
}
