import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  BatchWebhooks,
  MemorySubscriptionStore,
  RedisSubscriptionStore,
} from '../../pipeline/api/batch-webhooks.js';
import {
  SIGNATURE_HEADER,
  subscriptionKey,
  verifySignature,
  WebhookSender,
} from '../../pipeline/notify/webhook.js';
import { API_KEY, auth, startApiApp, waitForEnd } from '../helpers/api-server.js';

const SECRET = 'batch-webhook-secret';

/**
 * A batch's `webhookUrl` hears once about each of its jobs when it ends, signed like every
 * notification.
 */
describe('per-batch webhooks', () => {
  const received: { body: string; signature: string | undefined }[] = [];
  let receiver: http.Server;
  let url: string;
  let ctx: Awaited<ReturnType<typeof startApiApp>>;
  const webhooks: BatchWebhooks[] = [];
  const owners: string[] = [];
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  const sender = () =>
    new WebhookSender({
      secret: SECRET,
      log: { warn: () => {} },
      retry: { attempts: 2, backoffMs: 10 },
      // The receiver is on loopback: allowed here as MEDIAFLOW_WEBHOOK_ALLOW_PRIVATE allows it.
      untrusted: { allowPrivate: true },
    });

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ body, signature: req.headers[SIGNATURE_HEADER] as string | undefined });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    let hooks!: BatchWebhooks;
    ctx = await startApiApp(
      {
        apiKeys: [`alice:${API_KEY}`],
        subscribe: (ids, u, principal) => {
          owners.push(principal);
          return hooks.subscribe(ids, u, principal);
        },
      },
      {},
      { MEDIAFLOW_WEBHOOK_ALLOW_PRIVATE: 'true' },
    );
    hooks = new BatchWebhooks({
      jobs: ctx.app.jobs,
      subscriptions: new MemorySubscriptionStore(),
      sender: sender(),
      log: { warn: () => {} },
    });
    webhooks.push(hooks);
  });
  afterAll(async () => {
    for (const hooks of webhooks) await hooks.close();
    await ctx.close();
    receiver.close();
    redis.disconnect();
  });

  const submit = async (key: string, text: string) => {
    await ctx.app.store.putBytes(ctx.app.config.buckets.input, key, text);
    const res = await ctx.server.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: auth(),
      payload: { items: [{ bucket: ctx.app.config.buckets.input, key }], webhookUrl: url },
    });
    expect(res.statusCode).toBe(202);
    return res.json().jobIds[0] as string;
  };
  const eventsFor = async (jobId: string, count: number) => {
    for (let i = 0; i < 200; i++) {
      const mine = received.filter((r) => JSON.parse(r.body).data.jobId === jobId);
      if (mine.length >= count) return mine;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`fewer than ${count} webhook calls for ${jobId}`);
  };

  it('announces a finished job once, signed, and a failed one as job.failed', async () => {
    const ok = await submit('hooks/ok.jpg', 'fine');
    const bad = await submit('hooks/bad.jpg', 'FAIL');
    const [done] = await eventsFor(ok, 1);
    const event = JSON.parse(done!.body);
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'io.mediaflow.job.completed',
      data: { jobId: ok, state: 'succeeded' },
    });
    // Signed with a key bound to this URL: it does not verify with the notify secret itself, nor
    // with another URL's key, so a delivery captured elsewhere proves nothing here.
    expect(verifySignature(subscriptionKey(SECRET, url), done!.signature, done!.body)).toBe(true);
    expect(verifySignature(SECRET, done!.signature, done!.body)).toBe(false);
    expect(
      verifySignature(subscriptionKey(SECRET, `${url}-other`), done!.signature, done!.body),
    ).toBe(false);
    expect(JSON.parse((await eventsFor(bad, 1))[0]!.body)).toMatchObject({
      type: 'io.mediaflow.job.failed',
      data: { state: 'failed', error: { code: 'MEDIA_UNREADABLE' } },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(received.filter((r) => JSON.parse(r.body).data.jobId === ok)).toHaveLength(1);
    // Subscribed as the caller, whose cap paces the deliveries (webhook-caps.test.ts).
    expect(new Set(owners)).toEqual(new Set(['alice']));
  });

  it('announces at once a job that had already ended when the batch came', async () => {
    const first = await submit('hooks/again.jpg', 'again');
    await waitForEnd(ctx.app, first);
    await eventsFor(first, 1);
    expect(await submit('hooks/again.jpg', 'again')).toBe(first);
    expect(await eventsFor(first, 2)).toHaveLength(2);
  });

  it('delivers once when several API processes share the Redis subscriptions', async () => {
    const prefix = `mediaflow-test:${crypto.randomUUID()}:subs:`;
    const shared = [1, 2, 3].map(
      () =>
        new BatchWebhooks({
          jobs: ctx.app.jobs,
          subscriptions: new RedisSubscriptionStore(redis, prefix),
          sender: sender(),
          log: { warn: () => {} },
        }),
    );
    webhooks.push(...shared);
    await ctx.app.store.putBytes(ctx.app.config.buckets.input, 'hooks/shared.jpg', 'SLOW 200');
    const outcome = await ctx.app.orchestrator.submit({
      bucket: ctx.app.config.buckets.input,
      key: 'hooks/shared.jpg',
    });
    const id = (outcome as { jobId: string }).jobId;
    await shared[0]!.subscribe([id], url, 'alice');
    await waitForEnd(ctx.app, id);
    await eventsFor(id, 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((r) => JSON.parse(r.body).data.jobId === id)).toHaveLength(1);
  });
});
