import crypto from 'node:crypto';
import { MediaflowError } from '../../functions/errors.js';

/** A stored answer to replay: the status and JSON body the first request got. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyStart =
  /** First use of the key: process the request, then `complete` (or `abandon` on failure). */
  | { outcome: 'proceed' }
  /** Same key, same body, finished before: answer with the stored response. */
  | { outcome: 'replay'; response: StoredResponse }
  /** Same key with a different body: a client bug, answered 409. */
  | { outcome: 'conflict' }
  /** Same key and body while the first request is still running: answered 409, retry later. */
  | { outcome: 'in-progress' };

/**
 * Remembers Idempotency-Key headers so a retried batch submission gets the first answer back.
 * A port with two adapters: memory (embedded mode, one process) and Redis (any number of API
 * processes). Keys arrive already scoped to the caller, so one client cannot replay another's.
 */
export interface IdempotencyStore {
  begin(key: string, fingerprint: string): Promise<IdempotencyStart>;
  complete(key: string, fingerprint: string, response: StoredResponse): Promise<void>;
  /** Forgets a pending key after a failed request, so the client's retry runs again. */
  abandon(key: string, fingerprint: string): Promise<void>;
}

interface Entry {
  fingerprint: string;
  response?: StoredResponse;
  expires: number;
}

/** How long answers are kept, and how long a pending key blocks (a crashed request frees it). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
export const PENDING_TTL_MS = 5 * 60 * 1000;

/** The embedded mode's store: this process's memory, expired lazily. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  async begin(key: string, fingerprint: string): Promise<IdempotencyStart> {
    this.expire();
    const entry = this.entries.get(key);
    if (!entry) {
      this.entries.set(key, { fingerprint, expires: this.now() + PENDING_TTL_MS });
      return { outcome: 'proceed' };
    }
    return decide(entry, fingerprint);
  }

  async complete(key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    this.entries.set(key, {
      fingerprint,
      response: structuredClone(response),
      expires: this.now() + IDEMPOTENCY_TTL_MS,
    });
  }

  async abandon(key: string, fingerprint: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry && !entry.response && entry.fingerprint === fingerprint) this.entries.delete(key);
  }

  private expire(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expires <= now) this.entries.delete(key);
  }
}

/** The few Redis commands the Redis adapter needs; an ioredis client satisfies it. */
export interface IdempotencyRedis {
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  set(key: string, value: string, px: 'PX', milliseconds: number): Promise<'OK' | null>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<number>;
}

/**
 * Shared by every API process. `SET NX` makes the first request's claim atomic, so two processes
 * receiving the same key at once cannot both run the batch. Redis errors become
 * QUEUE_UNAVAILABLE (503, retryable) here, at the adapter.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: IdempotencyRedis,
    private readonly prefix = 'mediaflow:idempotency:',
  ) {}

  begin(key: string, fingerprint: string): Promise<IdempotencyStart> {
    return unavailableOnError(async () => {
      for (;;) {
        const claimed = await this.redis.set(
          this.prefix + key,
          JSON.stringify({ fingerprint }),
          'PX',
          PENDING_TTL_MS,
          'NX',
        );
        if (claimed === 'OK') return { outcome: 'proceed' };
        const raw = await this.redis.get(this.prefix + key);
        // Expired between the two commands: claim it again.
        if (raw !== null) return decide(JSON.parse(raw) as Entry, fingerprint);
      }
    });
  }

  complete(key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    return unavailableOnError(async () => {
      await this.redis.set(
        this.prefix + key,
        JSON.stringify({ fingerprint, response }),
        'PX',
        IDEMPOTENCY_TTL_MS,
      );
    });
  }

  abandon(key: string, fingerprint: string): Promise<void> {
    return unavailableOnError(async () => {
      const raw = await this.redis.get(this.prefix + key);
      const entry = raw ? (JSON.parse(raw) as Entry) : undefined;
      if (entry && !entry.response && entry.fingerprint === fingerprint)
        await this.redis.del(this.prefix + key);
    });
  }
}

async function unavailableOnError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new MediaflowError(
      'QUEUE_UNAVAILABLE',
      `Redis (idempotency keys) is unavailable: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function decide(
  entry: Pick<Entry, 'fingerprint' | 'response'>,
  fingerprint: string,
): IdempotencyStart {
  if (entry.fingerprint !== fingerprint) return { outcome: 'conflict' };
  return entry.response
    ? { outcome: 'replay', response: entry.response }
    : { outcome: 'in-progress' };
}

/**
 * The body's identity: a hash of its canonical JSON (keys sorted), so the same request written
 * with keys in another order still counts as the same.
 */
export function fingerprintOf(value: unknown): string {
  return crypto.createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The stored key for a caller's Idempotency-Key: scoped and hashed to a fixed length. */
export function scopedKey(principal: string, idempotencyKey: string): string {
  return crypto.createHash('sha256').update(`${principal}\0${idempotencyKey}`).digest('hex');
}
