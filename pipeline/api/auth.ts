import crypto from 'node:crypto';
import net from 'node:net';
import type { FastifyRequest } from 'fastify';
import { MediaflowError } from '../../functions/errors.js';
import { ApiError } from './http-errors.js';

/**
 * Bearer-token checks for the API (MEDIAFLOW_API_KEYS) and the storage webhook
 * (MEDIAFLOW_WEBHOOK_TOKEN). Tokens are compared by their SHA-256 digests with
 * `timingSafeEqual`: equal-length inputs, so neither a token's content nor its length leaks
 * through timing, and every configured key is compared (no early exit on the first match).
 */
export class BearerAuth {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /**
   * A stable, non-secret id for the key a request presented (for rate limiting and idempotency
   * scopes), or undefined when it presented none or a wrong one. The token itself is never kept.
   */
  principal(request: FastifyRequest): string | undefined {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) return undefined;
    const presented = digest(token);
    let match: Buffer | undefined;
    for (const candidate of this.digests)
      if (crypto.timingSafeEqual(candidate, presented)) match = candidate;
    return match ? `key:${match.subarray(0, 8).toString('hex')}` : undefined;
  }

  /** Throws 401 unless the request carries one of the tokens; returns its principal id. */
  require(request: FastifyRequest, realm: string): string {
    const principal = this.principal(request);
    if (principal) return principal;
    const message = request.headers.authorization
      ? 'The bearer token is not valid'
      : 'A bearer token is required (Authorization: Bearer <token>)';
    throw new ApiError('UNAUTHORIZED', message, { 'www-authenticate': `Bearer realm="${realm}"` });
  }
}

function digest(token: string): Buffer {
  return crypto.createHash('sha256').update(token, 'utf8').digest();
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

/**
 * Refuses to expose an API without keys beyond this machine: with no MEDIAFLOW_API_KEYS the API
 * trusts every caller, which is only safe when every caller is local.
 */
export function assertSafeBinding(host: string, apiKeys: readonly string[]): void {
  if (apiKeys.length === 0 && !isLoopbackHost(host)) {
    throw new MediaflowError(
      'CONFIG_INVALID',
      `MEDIAFLOW_HOST is ${host} but MEDIAFLOW_API_KEYS is empty: an API without keys listens ` +
        `on loopback only (set MEDIAFLOW_API_KEYS, or MEDIAFLOW_HOST=127.0.0.1)`,
    );
  }
}

/**
 * Without keys, the loopback binding is the only protection, and a web page could still reach it
 * through DNS rebinding (its own host name resolving to 127.0.0.1). Browsers always send the name
 * they resolved as Host, so insisting on a loopback Host closes that door.
 */
export function assertLoopbackHostHeader(request: FastifyRequest): void {
  const host = request.headers.host ?? '';
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  if (!isLoopbackHost(name))
    throw new ApiError(
      'FORBIDDEN',
      `Host ${JSON.stringify(host)} is not a loopback name; without API keys only local names ` +
        `are served`,
    );
}
