import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryLimiter, type DeliveryLimits } from '../../pipeline/notify/delivery-limiter.js';
import { WebhookSender } from '../../pipeline/notify/webhook.js';

/**
 * Caller-chosen webhooks are paced per principal (issue 12): one caller's flood, retries
 * included, waits in its own bounded line and never holds up another caller's deliveries.
 * Every receiver is on loopback.
 */
describe('per-principal webhook caps', () => {
  const arrivals: { path: string; at: number }[] = [];
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      arrivals.push({ path: req.url ?? '', at: Date.now() });
      req.resume();
      res.statusCode = req.url?.startsWith('/failing') ? 503 : 200;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const senderWith = (limits: DeliveryLimits, attempts = 1) =>
    new WebhookSender({
      secret: 'caps-secret',
      log: { warn: () => {} },
      retry: { attempts, backoffMs: 1 },
      untrusted: { allowPrivate: true },
      limiter: new DeliveryLimiter(limits),
    });
  const at = (path: string) => arrivals.filter((a) => a.path === path).map((a) => a.at);

  it('paces one principal after its burst while another is served at once', async () => {
    // 10 per second after a burst of 2.
    const sender = senderWith({ perMinute: 600, burst: 2, maxInFlight: 4, maxQueued: 10 });
    const start = Date.now();
    const flood = Array.from({ length: 6 }, () =>
      sender.deliver(`${base}/alice`, { n: 1 }, undefined, 'alice'),
    );
    await new Promise((r) => setTimeout(r, 30));
    const bob = await sender.deliver(`${base}/bob`, { n: 1 }, undefined, 'bob');
    expect(bob.ok).toBe(true);

    const results = await Promise.all(flood);
    expect(results.every((r) => r.ok)).toBe(true);
    // Four paced at 100 ms each after the burst; bob did not wait in alice's line.
    const alice = at('/alice').sort((a, b) => a - b);
    expect(alice[5]! - start).toBeGreaterThanOrEqual(350);
    expect(at('/bob')[0]!).toBeLessThan(alice[4]!);
  });

  it("drops what overflows a principal's line at once, and sends the rest", async () => {
    const sender = senderWith({ perMinute: 600, burst: 1, maxInFlight: 1, maxQueued: 3 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        sender.deliver(`${base}/carol`, { n: 1 }, undefined, 'carol'),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(4);
    expect(results.filter((r) => r.dropped)).toHaveLength(6);
    expect(results.filter((r) => r.dropped).every((r) => r.attempts === 0)).toBe(true);
    expect(at('/carol')).toHaveLength(4);
  });

  it('counts retries against the cap, so a failing URL is not hammered', async () => {
    const sender = senderWith({ perMinute: 300, burst: 1, maxInFlight: 4, maxQueued: 10 }, 4);
    const start = Date.now();
    const result = await sender.deliver(`${base}/failing-dave`, { n: 1 }, undefined, 'dave');
    expect(result).toMatchObject({ ok: false, attempts: 4, status: 503 });
    // Without the cap the four attempts would be 1-2 ms apart; paced, 200 ms apart.
    const times = at('/failing-dave');
    expect(times).toHaveLength(4);
    expect(times[3]! - start).toBeGreaterThanOrEqual(550);
  });

  it("does not pace deliveries without an owner (the operator's own notify URLs)", async () => {
    const sender = senderWith({ perMinute: 1, burst: 1, maxInFlight: 1, maxQueued: 1 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => sender.deliver(`${base}/operator`, { n: 1 })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
  });
});
