import crypto from 'node:crypto';
import net from 'node:net';
import type { FastifyRequest } from 'fastify';
import { MediaflowError } from '../../functions/errors.js';
import { ApiError } from './http-errors.js';

/** Who made a request: a name from the key list, and whether it may see everyone's jobs. */
export interface Principal {
  name: string;
  admin: boolean;
}

/** Jobs made by bucket events (no caller) belong to this principal; only admins see them. */
export const STORAGE_PRINCIPAL = 'storage';

/** A name in `name:token` key entries. */
const PRINCIPAL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Parses MEDIAFLOW_API_KEYS / MEDIAFLOW_ADMIN_KEYS entries: `name:token`, or a bare token, named
 * `key<position>` (1-based; `admin<position>` for admin keys). An entry whose part before the
 * first `:` is not a plain name is a bare token that happens to contain `:`.
 */
export function parseKeyEntries(
  entries: readonly string[],
  admin: boolean,
): { name: string; token: string; admin: boolean }[] {
  return entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    if (PRINCIPAL_NAME.test(name) && colon < entry.length - 1)
      return { name, token: entry.slice(colon + 1), admin };
    return { name: `${admin ? 'admin' : 'key'}${i + 1}`, token: entry, admin };
  });
}

/**
 * Bearer-token checks for the API (MEDIAFLOW_API_KEYS, MEDIAFLOW_ADMIN_KEYS) and the storage
 * webhook (MEDIAFLOW_WEBHOOK_TOKEN). Tokens are compared by their SHA-256 digests with
 * `timingSafeEqual`: equal-length inputs, so neither a token's content nor its length leaks
 * through timing, and every configured key is compared (no early exit on the first match).
 */
export class BearerAuth {
  private readonly keys: { digest: Buffer; principal: Principal }[];

  /** `tokens`: key entries (`name:token` or bare); `adminTokens` the same, for admins. */
  constructor(tokens: readonly string[], adminTokens: readonly string[] = []) {
    this.keys = [...parseKeyEntries(tokens, false), ...parseKeyEntries(adminTokens, true)].map(
      (k) => ({ digest: digest(k.token), principal: { name: k.name, admin: k.admin } }),
    );
  }

  /** One secret taken as is (the storage webhook's token: no names, a `:` is just a character). */
  static single(token: string | undefined): BearerAuth {
    const auth = new BearerAuth([]);
    if (token)
      auth.keys.push({ digest: digest(token), principal: { name: 'webhook', admin: false } });
    return auth;
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /**
   * The principal whose key a request presented, or undefined when it presented none or a wrong
   * one. The token itself is never kept.
   */
  principal(request: FastifyRequest): Principal | undefined {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) return undefined;
    const presented = digest(token);
    let match: Principal | undefined;
    for (const key of this.keys)
      if (crypto.timingSafeEqual(key.digest, presented)) match = key.principal;
    return match;
  }

  /** Throws 401 unless the request carries one of the tokens; returns its principal. */
  require(request: FastifyRequest, realm: string): Principal {
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
