import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../pipeline/cli/serve.js';
import { loadConfig } from '../../pipeline/config/load.js';
import { createLogger } from '../../pipeline/log.js';
import { waitForEnd } from '../helpers/api-server.js';
import { solid } from '../helpers/image-fixtures.js';

/**
 * Embedded `serve`, stopped and started again on the same data folder: the job history is still
 * there (it lived in memory and was lost at every restart), outputs included.
 */
describe('embedded serve across a restart', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-restart-'));
  const config = loadConfig({
    MEDIAFLOW_DATA_DIR: dataDir,
    MEDIAFLOW_SCRATCH_DIR: path.join(dataDir, 'scratch'),
    MEDIAFLOW_PORT: '0',
    MEDIAFLOW_EMBEDDED_S3_PORT: '0',
    MEDIAFLOW_WORKER_CONCURRENCY: '1',
    MEDIAFLOW_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const log = createLogger(config.logLevel);
  let serve: ServeHandle | undefined;
  afterAll(async () => {
    await serve?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async (
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(serve!.url + url, {
      method,
      ...(body
        ? {
            body: JSON.stringify(body),
            headers: { 'content-type': 'application/json', ...headers },
          }
        : {}),
    });
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed'),
      body: (await response.json()) as unknown,
    };
  };

  it('keeps the job list and the outputs', async () => {
    serve = await startServe(config, log);
    const { input } = config.buckets;
    await serve.app.store.putBytes(
      input,
      'restart/red.png',
      await solid(64, 48, [200, 30, 30]).png().toBuffer(),
      {
        contentType: 'image/png',
      },
    );
    const submitted = await call('POST', '/v1/jobs', {
      items: [{ bucket: input, key: 'restart/red.png' }],
    });
    expect(submitted.status).toBe(202);
    const id = (submitted.body as { jobIds: string[] }).jobIds[0]!;
    const ended = await waitForEnd(serve.app, id);
    expect(ended.state).toBe('succeeded');
    await serve.close();
    serve = undefined;

    serve = await startServe(config, log);
    const list = await call('GET', '/v1/jobs');
    expect(list.status).toBe(200);
    const jobs = (list.body as { jobs: { id: string; state: string }[] }).jobs;
    expect(jobs).toEqual([expect.objectContaining({ id, state: 'succeeded' })]);
    const job = (await call('GET', `/v1/jobs/${id}`)).body as {
      tasks: { id: string; startedAt?: string; endedAt?: string }[];
      outputs: { url: string }[];
    };
    expect(job.tasks.every((t) => t.startedAt && t.endedAt)).toBe(true);
    const output = await fetch(serve.url + job.outputs[0]!.url);
    expect(output.status).toBe(200);
  });

  it('replays an Idempotency-Key answer given before the restart', async () => {
    serve ??= await startServe(config, log);
    const { input } = config.buckets;
    await serve.app.store.putBytes(
      input,
      'restart/blue.png',
      await solid(32, 32, [30, 30, 200]).png().toBuffer(),
      { contentType: 'image/png' },
    );
    const body = { items: [{ bucket: input, key: 'restart/blue.png' }] };
    const key = { 'idempotency-key': 'restart-1' };
    const first = await call('POST', '/v1/jobs', body, key);
    expect(first).toMatchObject({ status: 202, replayed: null });
    await waitForEnd(serve.app, (first.body as { jobIds: string[] }).jobIds[0]!);
    await serve.close();
    serve = undefined;

    serve = await startServe(config, log);
    const again = await call('POST', '/v1/jobs', body, key);
    expect(again).toEqual({ status: 202, replayed: 'true', body: first.body });
    const other = await call('POST', '/v1/jobs', { ...body, force: true }, key);
    expect(other.status).toBe(409);
  });
});
