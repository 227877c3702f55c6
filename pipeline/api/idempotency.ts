import crypto from 'node:crypto';
import { MediaflowError } from '../../functions/errors.js';
import {
  packAnswer,
  type StoredResponse,
  unpackAnswer,
  type PackedAnswer,
} from './idempotency-codec.js';

export type { StoredResponse };

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
 * A port with three adapters: SQLite (embedded `serve`, in the data folder, so a replay survives a
 * restart), Redis (any number of API processes) and memory (bounded, for a server without either).
 * Keys arrive already scoped to the caller, so one client cannot replay another's. Answers are
 * kept compressed for 24 h; one over MAX_ANSWER_BYTES compressed is not kept (a retry runs again).
 */
export interface IdempotencyStore {
  begin(key: string, fingerprint: string): Promise<IdempotencyStart>;
  complete(key: string, fingerprint: string, response: StoredResponse): Promise<void>;
  /** Forgets a pending key after a failed request, so the client's retry runs again. */
  abandon(key: string, fingerprint: string): Promise<void>;
}

/** A key's record: who claimed it (the body's fingerprint) and, once done, the packed answer. */
export interface IdempotencyEntry {
  fingerprint: string;
  answer?: PackedAnswer;
}

/** How long answers are kept, and how long a pending key blocks (a crashed request frees it). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
export const PENDING_TTL_MS = 5 * 60 * 1000;
/** The memory store's bound on what it holds in all; the oldest keys go first beyond it. */
export const MEMORY_IDEMPOTENCY_BYTES = 16 * 1024 * 1024;
/** What an entry costs besides its answer (key, fingerprint, the map's own), roughly. */
const ENTRY_BYTES = 256;

interface MemoryEntry extends IdempotencyEntry {
  expires: number;
  bytes: number;
}

/**
 * The store for a `serve` without a data folder (tests, the API alone): this process's memory,
 * bounded in bytes. Entries sit in the order they were written, so expired ones are dropped from
 * the front, and so are the oldest when the bound is reached.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, MemoryEntry>();
  private bytes = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxBytes = MEMORY_IDEMPOTENCY_BYTES,
  ) {}

  /** Bytes held now, answers included (for tests and the state bench). */
  get storedBytes(): number {
    return this.bytes;
  }

  async begin(key: string, fingerprint: string): Promise<IdempotencyStart> {
    this.expire();
    const entry = this.entries.get(key);
    if (entry && entry.expires > this.now()) return decide(entry, fingerprint);
    this.put(key, { fingerprint }, PENDING_TTL_MS);
    return { outcome: 'proceed' };
  }

  async complete(key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    const answer = packAnswer(response);
    if (answer) this.put(key, { fingerprint, answer }, IDEMPOTENCY_TTL_MS);
    else this.remove(key);
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldest);
    }
  }

  async abandon(key: string, fingerprint: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry && !entry.answer && entry.fingerprint === fingerprint) this.remove(key);
  }

  /** Writes an entry at the back (the newest). */
  private put(key: string, entry: IdempotencyEntry, ttlMs: number): void {
    this.remove(key);
    const bytes = ENTRY_BYTES + (entry.answer?.body.length ?? 0);
    this.entries.set(key, { ...entry, expires: this.now() + ttlMs, bytes });
    this.bytes += bytes;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  /** Drops expired entries from the front; one expired behind a live one waits (begin checks). */
  private expire(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expires > now) return;
      this.remove(key);
    }
  }
}

/** The few Redis commands the Redis adapter needs; an ioredis client satisfies it. */
export interface IdempotencyRedis {
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  set(key: string, value: Buffer, px: 'PX', milliseconds: number): Promise<'OK' | null>;
  getBuffer(key: string): Promise<Buffer | null>;
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
        const raw = await this.redis.getBuffer(this.prefix + key);
        // Expired between the two commands: claim it again.
        if (raw !== null) return decide(fromRedis(raw), fingerprint);
      }
    });
  }

  complete(key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    return unavailableOnError(async () => {
      const answer = packAnswer(response);
      if (!answer) {
        await this.redis.del(this.prefix + key);
        return;
      }
      const header = JSON.stringify({ fingerprint, status: answer.status });
      const value = Buffer.concat([Buffer.from(`${header}\n`), answer.body]);
      await this.redis.set(this.prefix + key, value, 'PX', IDEMPOTENCY_TTL_MS);
    });
  }

  abandon(key: string, fingerprint: string): Promise<void> {
    return unavailableOnError(async () => {
      const raw = await this.redis.getBuffer(this.prefix + key);
      const entry = raw ? fromRedis(raw) : undefined;
      if (entry && !entry.answer && entry.fingerprint === fingerprint)
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

/**
 * A Redis value: a JSON line `{fingerprint, status}`, then the compressed answer's bytes (none
 * while pending). Values written before answers were packed (one JSON line with `response`) still
 * replay until they expire.
 */
function fromRedis(raw: Buffer): IdempotencyEntry {
  const end = raw.indexOf(0x0a);
  const header = JSON.parse(raw.subarray(0, end < 0 ? raw.length : end).toString('utf8')) as {
    fingerprint: string;
    status?: number;
    response?: StoredResponse;
  };
  const answer =
    end >= 0
      ? { status: header.status ?? 202, body: raw.subarray(end + 1) }
      : header.response && packAnswer(header.response);
  return { fingerprint: header.fingerprint, ...(answer ? { answer } : {}) };
}

/** What a begin finds when the key is live: its answer, a conflict, or a request in flight. */
export function decide(entry: IdempotencyEntry, fingerprint: string): IdempotencyStart {
  if (entry.fingerprint !== fingerprint) return { outcome: 'conflict' };
  return entry.answer
    ? { outcome: 'replay', response: unpackAnswer(entry.answer) }
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
