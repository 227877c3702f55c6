import type { FastifyInstance } from 'fastify';
import type { App, AppOverrides } from '../../pipeline/app.js';
import { buildServer, type ServerOptions } from '../../pipeline/api/server.js';
import { isFinal, type JobRecord } from '../../pipeline/jobs/job.js';
import { copyHandlers, copyWorkflow } from './copy-workflow.js';
import { startEmbeddedApp } from './embedded-app.js';

export const API_KEY = 'test-api-key-0123456789';
export const WEBHOOK_TOKEN = 'test-webhook-token-0123456789';

/** An embedded app running the media-free copy workflow for images, with its API. */
export async function startApiApp(
  options: ServerOptions = {},
  overrides: AppOverrides = {},
  env: Record<string, string> = {},
): Promise<{ app: App & { dataDir: string }; server: FastifyInstance; close(): Promise<void> }> {
  const app = await startEmbeddedApp(
    { handlers: copyHandlers, workflows: new Map([['image', copyWorkflow]]), ...overrides },
    { MEDIAFLOW_WORKER_CONCURRENCY: '2', ...env },
  );
  const server = await buildServer(app, {
    apiKeys: [API_KEY],
    webhookToken: WEBHOOK_TOKEN,
    rateLimit: false,
    ...options,
  });
  return {
    app,
    server,
    async close() {
      await server.close();
      await app.close();
    },
  };
}

export const auth = (key = API_KEY) => ({ authorization: `Bearer ${key}` });

/** Polls the job store until the job has ended (the API's own SSE is tested separately). */
export async function waitForEnd(app: App, jobId: string, timeoutMs = 30_000): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await app.jobs.get(jobId);
    if (job && isFinal(job.state)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} still ${job?.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until a condition on a job holds (e.g. a task running). */
export async function waitForJob(
  app: App,
  jobId: string,
  check: (job: JobRecord) => boolean,
  timeoutMs = 10_000,
): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await app.jobs.get(jobId);
    if (job && check(job)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} never reached the expected condition (state ${job?.state})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
