import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig, type Config } from '../../pipeline/config/load.js';
import { startServe, type ServeHandle } from '../../pipeline/cli/serve.js';
import { createDistributedApp, type DistributedApp } from '../../pipeline/distributed-app.js';
import { createLogger } from '../../pipeline/log.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../pipeline/storage/embedded-s3.js';
import { solid } from '../helpers/image-fixtures.js';
import { waitForEnd } from '../helpers/api-server.js';

const KEY = 'serve-distributed-key-0123';

/**
 * `mediaflow serve` in distributed mode (REDIS_URL + an S3 endpoint): two serve processes' worth
 * of API share job state, Idempotency-Key answers and readiness through Redis, and a BullMQ
 * worker runs the job they accepted.
 */
describe('serve, distributed', () => {
  let s3: EmbeddedS3;
  let dataDir: string;
  let config: Config;
  let a: ServeHandle;
  let b: ServeHandle;
  let worker: DistributedApp;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-serve-dist-'));
    s3 = await startEmbeddedS3({ dataDir, port: 0 });
    const id = crypto.randomBytes(3).toString('hex');
    config = loadConfig({
      REDIS_URL: inject('redisUrl'),
      MEDIAFLOW_S3_ENDPOINT: s3.endpoint,
      MEDIAFLOW_INPUT_BUCKET: `in-${id}`,
      MEDIAFLOW_OUTPUT_BUCKET: `out-${id}`,
      MEDIAFLOW_QUEUE_PREFIX: `serve-${id}`,
      MEDIAFLOW_SCRATCH_DIR: path.join(dataDir, 'scratch'),
      MEDIAFLOW_API_KEYS: KEY,
      MEDIAFLOW_PORT: '0',
      MEDIAFLOW_WORKER_CONCURRENCY: '1',
      MEDIAFLOW_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    const log = createLogger(config.logLevel);
    a = await startServe(config, log);
    b = await startServe(config, log);
    worker = await createDistributedApp(config, log, { consume: true });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await worker?.close();
    await s3?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const call = (
    handle: ServeHandle,
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(handle.url + url, {
      method,
      headers: {
        authorization: `Bearer ${KEY}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('checks storage and Redis in /readyz', async () => {
    const res = await fetch(a.url + '/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      checks: { storage: { ok: true }, redis: { ok: true }, jobs: { ok: true } },
    });
  });

  it(
    'shares jobs and Idempotency-Key answers between ' + 'serve processes; a worker runs the job',
    async () => {
      await a.app.store.putBytes(
        config.buckets.input,
        'dist/red.png',
        await solid(48, 32, [10, 200, 10]).png().toBuffer(),
        { contentType: 'image/png' },
      );
      const body = { items: [{ bucket: config.buckets.input, key: 'dist/red.png' }] };
      const first = await call(a, 'POST', '/v1/jobs', body, { 'idempotency-key': 'dist-1' });
      expect(first.status).toBe(202);
      const firstBody = (await first.json()) as { jobIds: string[] };
      const replay = await call(b, 'POST', '/v1/jobs', body, { 'idempotency-key': 'dist-1' });
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(await replay.json()).toEqual(firstBody);
      const conflict = await call(
        b,
        'POST',
        '/v1/jobs',
        { items: [{ bucket: config.buckets.input, key: 'dist/other.png' }] },
        { 'idempotency-key': 'dist-1' },
      );
      expect(conflict.status).toBe(409);

      const id = firstBody.jobIds[0]!;
      const job = await waitForEnd(b.app, id, 60_000);
      expect(job.state).toBe('succeeded');
      const view = (await (await call(b, 'GET', `/v1/jobs/${id}`)).json()) as {
        state: string;
        outputs: unknown[];
      };
      expect(view.state).toBe('succeeded');
      expect(view.outputs.length).toBeGreaterThan(0);
    },
  );
});
