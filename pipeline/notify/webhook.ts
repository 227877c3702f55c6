import crypto from 'node:crypto';
import { resolveDestination } from './destination.js';
import { postPinned } from './pinned-post.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, type RetryPolicy } from '../runner/port.js';
import { CLOUDEVENTS_CONTENT_TYPE } from './cloudevents.js';
import type { DeliveryLimiter } from './delivery-limiter.js';

/**
 * The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the
 * shared secret>`. Signing the timestamp with the body lets receivers refuse replays of old
 * deliveries; see `verifySignature` for how to check it.
 */
export const SIGNATURE_HEADER = 'x-mediaflow-signature';

export function signPayload(secret: string, body: string, timestampS: number): string {
  const mac = crypto.createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

/**
 * Verifies a delivery as a receiver should: recompute the HMAC over `<t>.<raw body>` (the body
 * exactly as received, before any JSON parsing), compare in constant time, and refuse timestamps
 * further than `toleranceS` from now. Any `v1` entry may match (several during a secret rotation).
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  options: { toleranceS?: number; nowMs?: number } = {},
): boolean {
  if (!header) return false;
  const parts = header.split(',').map((p) => p.trim().split('=') as [string, string?]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t)) return false;
  if (Math.abs((options.nowMs ?? Date.now()) / 1000 - t) > (options.toleranceS ?? 300))
    return false;
  const expected = Buffer.from(signPayload(secret, body, t).split('v1=')[1]!, 'hex');
  return parts.some(([k, v]) => {
    if (k !== 'v1' || !v || !/^[0-9a-f]+$/i.test(v)) return false;
    const given = Buffer.from(v, 'hex');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

export interface WebhookOptions {
  /** Unset: deliveries go unsigned (a warning is logged once at start-up by the caller). */
  secret: string | undefined;
  retry?: RetryPolicy;
  timeoutMs?: number;
  fetch?: typeof fetch;
  log: { warn(o: object, m?: string): void };
  /**
   * For URLs that API callers chose: resolve and refuse private destinations (unless
   * `allowPrivate`), connect to the checked address, and sign with a key bound to the URL
   * (see `subscriptionKey`), so a signature captured at one URL does not verify for another.
   * Unset: operator-configured URLs, signed with the secret itself.
   */
  untrusted?: { allowPrivate: boolean };
  /** Paces each owner's attempts (retries included); deliveries without an owner are not paced. */
  limiter?: DeliveryLimiter;
}

/**
 * The signing key of a caller-chosen webhook URL: HMAC-SHA256 of the URL keyed with the notify
 * secret. The receiver's key for its URL can be derived by the operator; a delivery captured at one
 * URL does not verify with another URL's key, nor with the notify secret.
 */
export function subscriptionKey(secret: string, url: string): string {
  return crypto.createHmac('sha256', secret).update(`mediaflow-webhook:${url}`).digest('hex');
}

const noop = () => {};

/** What became of one delivery. */
export interface DeliveryResult {
  url: string;
  ok: boolean;
  attempts: number;
  status?: number;
  /** The owner's line of waiting deliveries was full: this one was never sent. */
  dropped?: true;
}

/**
 * POSTs JSON bodies to webhook URLs, signed, with retries: network errors, timeouts, 408, 429 and
 * 5xx are retried with exponential backoff and jitter; other 4xx answers mean the receiver
 * refuses the event and are not retried. Never throws: a notification must not fail a job.
 */
export class WebhookSender {
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: WebhookOptions) {
    this.retry = options.retry ?? { attempts: 5, backoffMs: 1000 };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async deliver(
    url: string,
    event: unknown,
    signal?: AbortSignal,
    owner?: string,
  ): Promise<DeliveryResult> {
    const body = JSON.stringify(event);
    let status: number | undefined;
    for (let attempt = 1; ; attempt++) {
      let retryable = true;
      const release =
        owner && this.options.limiter ? await this.options.limiter.acquire(owner) : noop;
      if (!release) {
        this.options.log.warn({ url, owner }, "webhook delivery dropped: over the caller's cap");
        return { url, ok: false, attempts: attempt - 1, dropped: true };
      }
      try {
        const headers: Record<string, string> = {
          'content-type': CLOUDEVENTS_CONTENT_TYPE,
          'user-agent': 'mediaflow-webhook',
        };
        // Signed per attempt, so a retry carries a fresh timestamp within the receiver's tolerance.
        const { secret, untrusted } = this.options;
        if (secret)
          headers[SIGNATURE_HEADER] = signPayload(
            untrusted ? subscriptionKey(secret, url) : secret,
            body,
            Math.floor(Date.now() / 1000),
          );
        const timeout = AbortSignal.timeout(this.timeoutMs);
        const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
        if (untrusted) {
          // Checked at every attempt; a refused destination is final, not retried.
          retryable = false;
          const destination = await resolveDestination(url, untrusted.allowPrivate);
          retryable = true;
          status = await postPinned(destination, headers, body, both);
        } else {
          const response = await this.fetch(url, {
            method: 'POST',
            headers,
            body,
            signal: both,
            redirect: 'manual',
          });
          status = response.status;
          await response.body?.cancel().catch(() => {});
        }
        if (status >= 200 && status < 300) return { url, ok: true, attempts: attempt, status };
        // A redirect is refused (it could lead anywhere), and so not retried either.
        retryable = status === 408 || status === 429 || status >= 500;
      } catch (error) {
        if (signal?.aborted)
          return { url, ok: false, attempts: attempt, ...(status ? { status } : {}) };
        this.options.log.warn(
          { url, attempt, err: (error as Error).message },
          'webhook delivery failed',
        );
      } finally {
        release();
      }
      if (!retryable || attempt >= this.retry.attempts) {
        this.options.log.warn({ url, attempts: attempt, status }, 'webhook delivery given up');
        return { url, ok: false, attempts: attempt, ...(status ? { status } : {}) };
      }
      try {
        await sleep(backoffDelay(this.retry, attempt), undefined, signal ? { signal } : undefined);
      } catch {
        return { url, ok: false, attempts: attempt, ...(status ? { status } : {}) };
      }
    }
  }
}
