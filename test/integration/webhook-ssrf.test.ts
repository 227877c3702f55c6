import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBodySchema } from '../../pipeline/api/schemas.js';
import { isBlockedAddress, resolveDestination } from '../../pipeline/notify/destination.js';
import { WebhookSender } from '../../pipeline/notify/webhook.js';
import { auth, startApiApp } from '../helpers/api-server.js';

/**
 * Caller-chosen webhook URLs must not reach the operator's network. Every target here is on
 * loopback or is refused before any connection: nothing leaves this machine.
 */
const FORMS = [
  'http://169.254.169.254/latest/meta-data/', // cloud metadata
  'http://[::ffff:a9fe:a9fe]/', // the same, IPv4-mapped IPv6
  'http://2130706433/admin', // 127.0.0.1 in decimal
  'http://0x7f.1/admin', // 127.0.0.1 in hex, short form
  'http://127.1:9/', // short dotted form
  'http://localhost:9/',
  'http://[::1]:9/',
  'http://10.0.0.1/',
  'http://172.16.5.4/',
  'http://192.168.1.1/',
  'http://100.64.0.1/', // CGNAT
  'http://224.0.0.1/', // multicast
  'http://0.0.0.0:9/',
  'http://[fe80::1]/',
  'http://[fc00::1]/',
];

describe('webhook destinations', () => {
  it('classifies addresses', () => {
    for (const ip of [
      ...['127.0.0.1', '10.1.2.3', '169.254.169.254', '100.100.0.1', '::1', 'fd00::5'],
      ...['::ffff:8.8.8.8', '::ffff:a9fe:a9fe', '0:0:0:0:0:ffff:7f00:1'],
    ])
      expect(isBlockedAddress(ip), ip).toBe(true);
    for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111'])
      expect(isBlockedAddress(ip), ip).toBe(false);
  });

  it('refuses every private, loopback, mapped, decimal and hex form', async () => {
    for (const url of FORMS)
      await expect(resolveDestination(url, false), url).rejects.toMatchObject({
        code: 'REQUEST_INVALID',
        message: expect.stringMatching(/loopback, private, link-local, shared or multicast/),
      });
    for (const url of ['ftp://example.com/', 'http://user:pw@example.com/', 'not a url'])
      await expect(resolveDestination(url, false), url).rejects.toMatchObject({
        code: 'REQUEST_INVALID',
      });
  });

  describe('the API', () => {
    let ctx: Awaited<ReturnType<typeof startApiApp>>;
    beforeAll(async () => {
      ctx = await startApiApp({ subscribe: async () => {} });
      await ctx.app.store.putBytes(ctx.app.config.buckets.input, 'ssrf/a.jpg', 'a');
    });
    afterAll(() => ctx.close());

    it('answers 400 for a private webhookUrl before submitting anything', async () => {
      for (const webhookUrl of FORMS.slice(0, 4)) {
        const res = await ctx.server.inject({
          method: 'POST',
          url: '/v1/jobs',
          headers: auth(),
          payload: {
            items: [{ bucket: ctx.app.config.buckets.input, key: 'ssrf/a.jpg' }],
            webhookUrl,
          },
        });
        expect(res.statusCode, webhookUrl).toBe(400);
        expect(errorBodySchema.parse(res.json()).error.message).toMatch(/webhookUrl/);
      }
      expect((await ctx.app.jobs.list({ limit: 10 })).jobs).toHaveLength(0);
    });
  });

  describe('delivery', () => {
    const hits: string[] = [];
    let receiver: http.Server;
    let base: string;
    beforeAll(async () => {
      receiver = http.createServer((req, res) => {
        hits.push(req.url ?? '');
        if (req.url === '/redirect') {
          res.writeHead(307, { location: 'http://169.254.169.254/' });
          res.end();
        } else res.end('ok');
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    });
    afterAll(() => receiver.close());
    const sender = (allowPrivate: boolean) =>
      new WebhookSender({
        secret: 'notify-secret',
        log: { warn: () => {} },
        retry: { attempts: 3, backoffMs: 5 },
        untrusted: { allowPrivate },
      });

    it('refuses a private destination at delivery too, once, without connecting', async () => {
      const result = await sender(false).deliver(`${base}/private`, { hello: 1 });
      expect(result).toMatchObject({ ok: false, attempts: 1 });
      expect(hits).not.toContain('/private');
    });

    it('does not follow or retry a redirect', async () => {
      const result = await sender(true).deliver(`${base}/redirect`, { hello: 1 });
      expect(result).toEqual({ url: `${base}/redirect`, ok: false, attempts: 1, status: 307 });
      expect(hits.filter((h) => h === '/redirect')).toHaveLength(1);
    });

    it('delivers to loopback when MEDIAFLOW_WEBHOOK_ALLOW_PRIVATE allows it', async () => {
      const result = await sender(true).deliver(`${base}/ok`, { hello: 1 });
      expect(result).toMatchObject({ ok: true, attempts: 1, status: 200 });
    });
  });
});
