import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/load.js';
import { appForConfig } from '../../pipeline/distributed-app.js';
import { waitForJobs } from '../../pipeline/jobs/wait.js';
import { createLogger } from '../../pipeline/log.js';
import {
  CLOUDEVENTS_CONTENT_TYPE,
  type CloudEvent,
  type JobEventData,
} from '../../pipeline/notify/cloudevents.js';
import {
  signPayload,
  SIGNATURE_HEADER,
  verifySignature,
  WebhookSender,
} from '../../pipeline/notify/webhook.js';
import { startTriggers } from '../../pipeline/triggers/start.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver; `answer` decides the status of each request. */
async function receiver(answer: (req: Received, n: number) => number = () => 204) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      res.statusCode = answer(r, received.filter((x) => x.path === r.path).length);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const SECRET = 'a-shared-secret-for-tests';
const quiet = { warn: () => {} };

describe('webhook signatures', () => {
  const body = JSON.stringify({ specversion: '1.0', id: 'x' });
  const now = Date.UTC(2026, 0, 1);
  const t = Math.floor(now / 1000);

  it('verifies a signature over the timestamp and the exact body, and nothing else', () => {
    const header = signPayload(SECRET, body, t);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(header.split('v1=')[1]).toBe(
      crypto.createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex'),
    );
    expect(verifySignature(SECRET, header, body, { nowMs: now })).toBe(true);
    expect(verifySignature(SECRET, header, body + ' ', { nowMs: now })).toBe(false);
    expect(verifySignature('another-secret', header, body, { nowMs: now })).toBe(false);
    expect(
      verifySignature(SECRET, header.replace(`t=${t}`, `t=${t + 1}`), body, { nowMs: now }),
    ).toBe(false);
    expect(verifySignature(SECRET, undefined, body, { nowMs: now })).toBe(false);
    expect(verifySignature(SECRET, 'v1=abc', body, { nowMs: now })).toBe(false);
  });

  it('refuses stale timestamps (replays) and accepts any v1 during a secret rotation', () => {
    const header = signPayload(SECRET, body, t);
    expect(verifySignature(SECRET, header, body, { nowMs: now + 299_000 })).toBe(true);
    expect(verifySignature(SECRET, header, body, { nowMs: now + 301_000 })).toBe(false);
    const rotated = `${header},v1=${signPayload('old-secret', body, t).split('v1=')[1]}`;
    expect(verifySignature('old-secret', rotated, body, { nowMs: now })).toBe(true);
  });
});

describe('webhook delivery to a real HTTP server', () => {
  it('retries 5xx with backoff, signing every attempt, until the receiver accepts', async () => {
    const server = await receiver((_r, n) => (n < 3 ? 503 : 204));
    try {
      const sender = new WebhookSender({
        secret: SECRET,
        retry: { attempts: 5, backoffMs: 20 },
        log: quiet,
      });
      const started = Date.now();
      const result = await sender.deliver(`${server.url}/hook`, { specversion: '1.0', id: 'e1' });
      expect(result).toEqual({ url: `${server.url}/hook`, ok: true, attempts: 3, status: 204 });
      // Two backoffs: at least 10 + 20 ms (half of 20 and of 40, the jitter's floor).
      expect(Date.now() - started).toBeGreaterThanOrEqual(30);
      expect(server.received).toHaveLength(3);
      for (const r of server.received) {
        expect(r.headers['content-type']).toBe(CLOUDEVENTS_CONTENT_TYPE);
        expect(verifySignature(SECRET, r.headers[SIGNATURE_HEADER] as string, r.body)).toBe(true);
      }
    } finally {
      await server.close();
    }
  });

  it(
    'does not retry a receiver that refuses the event (4xx), and never throws when nobody ' +
      'listens',
    async () => {
      const server = await receiver(() => 400);
      try {
        const sender = new WebhookSender({
          secret: SECRET,
          retry: { attempts: 5, backoffMs: 5 },
          log: quiet,
        });
        expect(await sender.deliver(`${server.url}/hook`, {})).toMatchObject({
          ok: false,
          attempts: 1,
          status: 400,
        });
        const closed = await receiver();
        await closed.close();
        expect(await sender.deliver(`${closed.url}/gone`, {})).toMatchObject({
          ok: false,
          attempts: 5,
        });
      } finally {
        await server.close();
      }
    },
  );
});

describe('job notifications end to end (embedded app, real s3rver, real receiver)', () => {
  let server: Awaited<ReturnType<typeof receiver>>;
  let app: Awaited<ReturnType<typeof appForConfig>>;
  let stopTriggers: () => Promise<void>;
  let dataDir: string;

  beforeAll(async () => {
    // /down always fails: a dead receiver must not affect the jobs or the other receiver.
    server = await receiver((r) => (r.path === '/down' ? 500 : 204));
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-notify-'));
    const id = crypto.randomBytes(3).toString('hex');
    const config = loadConfig({
      MEDIAFLOW_DATA_DIR: dataDir,
      MEDIAFLOW_SCRATCH_DIR: path.join(dataDir, 'scratch'),
      MEDIAFLOW_INPUT_BUCKET: `in-${id}`,
      MEDIAFLOW_OUTPUT_BUCKET: `out-${id}`,
      MEDIAFLOW_TASK_BACKOFF_MS: '5',
      MEDIAFLOW_EMBEDDED_S3_PORT: '0',
      MEDIAFLOW_NOTIFY_URLS: `${server.url}/ok,${server.url}/down`,
      MEDIAFLOW_NOTIFY_SECRET: SECRET,
      MEDIAFLOW_LOG_LEVEL: 'silent',
    });
    app = await appForConfig(config, createLogger('silent'), {
      handlers: copyHandlers,
      workflows: new Map([['image', copyWorkflow]]),
    });
    stopTriggers = startTriggers(app).stop;
  });
  afterAll(async () => {
    await stopTriggers();
    await app.close();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const events = (jobId: string) =>
    server.received
      .filter((r) => r.path === '/ok')
      .map((r) => JSON.parse(r.body) as CloudEvent<JobEventData>)
      .filter((e) => e.subject === jobId);

  async function jobFor(key: string, body: string) {
    await app.store.putBytes(app.config.buckets.input, key, body);
    for (let i = 0; i < 200; i++) {
      const found = (await app.jobs.list({ limit: 50 })).jobs.find(
        (j) => j.spec.source.key === key,
      );
      if (found) return (await waitForJobs(app.jobs, [found.spec.id]))[0]!;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no job for ${key}`);
  }

  async function until(predicate: () => boolean) {
    for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 25));
  }

  it('announces a finished job as a signed io.mediaflow.job.completed CloudEvent', async () => {
    const job = await jobFor('ok.jpg', 'hello');
    expect(job.state).toBe('succeeded');
    await until(() => events(job.spec.id).some((e) => e.type === 'io.mediaflow.job.completed'));
    const completed = events(job.spec.id).find((e) => e.type === 'io.mediaflow.job.completed')!;
    expect(completed).toMatchObject({
      specversion: '1.0',
      id: `${job.spec.id}.succeeded`,
      source: '/mediaflow/jobs',
      subject: job.spec.id,
      datacontenttype: 'application/json',
      data: {
        jobId: job.spec.id,
        state: 'succeeded',
        progress: 1,
        preset: 'image',
        source: { key: 'ok.jpg' },
      },
    });
    expect(Date.parse(completed.time)).not.toBeNaN();
    expect(completed.data.outputs.map((o) => o.key)).toEqual(job.outputs.map((o) => o.key));
    const progress = events(job.spec.id).filter((e) => e.type === 'io.mediaflow.job.progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((e) => e.data.progress >= 0 && e.data.progress < 1)).toBe(true);
    const raw = server.received.find(
      (r) => r.path === '/ok' && r.body.includes('job.completed') && r.body.includes(job.spec.id),
    )!;
    expect(verifySignature(SECRET, raw.headers[SIGNATURE_HEADER] as string, raw.body)).toBe(true);
  });

  it('announces a failed job with its error, and a failing receiver fails nothing', async () => {
    const job = await jobFor('bad.jpg', 'FAIL');
    expect(job.state).toBe('failed');
    await until(() => events(job.spec.id).some((e) => e.type === 'io.mediaflow.job.failed'));
    expect(events(job.spec.id).find((e) => e.type === 'io.mediaflow.job.failed')).toMatchObject({
      id: `${job.spec.id}.failed`,
      data: { state: 'failed', error: { code: 'MEDIA_UNREADABLE', retryable: false } },
    });
    expect(server.received.filter((r) => r.path === '/down').length).toBeGreaterThan(0);
  });
});
