import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { BearerAuth } from './auth.js';
import { ApiError } from './http-errors.js';

export interface RateLimitOptions {
  /** Requests per window per caller. */
  max: number;
  timeWindowMs: number;
  /**
   * An ioredis client to share counters between API processes (distributed mode); without it
   * each process counts on its own.
   */
  redis?: unknown;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { max: 600, timeWindowMs: 60_000 };

/**
 * Limits requests per caller: per API key when a valid one is presented, else per client address
 * (so wrong-key guessing is limited too; it runs before the key is checked). Over the limit the
 * answer is 429 RATE_LIMITED with Retry-After in seconds.
 */
export async function registerRateLimit(
  scope: FastifyInstance,
  auth: BearerAuth,
  options: RateLimitOptions,
): Promise<void> {
  await scope.register(rateLimit, {
    global: true,
    max: options.max,
    timeWindow: options.timeWindowMs,
    // With Redis away, requests go through rather than fail here; the routes answer 503 themselves.
    ...(options.redis
      ? { redis: options.redis as never, nameSpace: 'mediaflow:rate-limit:', skipOnError: true }
      : {}),
    keyGenerator: (request) => {
      const principal = auth.principal(request);
      return principal ? `principal:${principal.name}` : `ip:${request.ip}`;
    },
    addHeadersOnExceeding: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
    },
    addHeaders: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
      'retry-after': true,
    },
    errorResponseBuilder: (_request, context) =>
      new ApiError(
        'RATE_LIMITED',
        `Rate limit of ${context.max} requests exceeded; retry in ${context.after}`,
      ),
  });
}
