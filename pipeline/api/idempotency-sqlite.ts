import path from 'node:path';
import Database from 'better-sqlite3';
import { openSqlite } from '../jobs/open-sqlite.js';
import { packAnswer } from './idempotency-codec.js';
import {
  decide,
  IDEMPOTENCY_TTL_MS,
  PENDING_TTL_MS,
  type IdempotencyStart,
  type IdempotencyStore,
  type StoredResponse,
} from './idempotency.js';

/** The embedded store's file in the data folder. */
export const IDEMPOTENCY_FILE = 'idempotency.sqlite';

/** Expired keys one call deletes at most, so no call is O(all keys). */
const PRUNE_BATCH = 100;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  status INTEGER,
  answer BLOB,
  expires INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_expires ON idempotency (expires);
`;

type Row = { fingerprint: string; status: number | null; answer: Buffer | null };

/**
 * Idempotency keys of an embedded `serve`, in its data folder: a client retrying a batch across a
 * restart gets the first answer back instead of a second run. One process owns the file, and each
 * call is one synchronous transaction, so claiming a key is atomic.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly db: Database.Database;

  /** `file` is a path, or ':memory:' for tests. */
  constructor(
    file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = openSqlite(file, 'idempotency store', (db) => db.exec(SCHEMA));
  }

  static inDataDir(dataDir: string): SqliteIdempotencyStore {
    return new SqliteIdempotencyStore(path.join(dataDir, IDEMPOTENCY_FILE));
  }

  async begin(key: string, fingerprint: string): Promise<IdempotencyStart> {
    return this.db.transaction((): IdempotencyStart => {
      const now = this.now();
      this.db
        .prepare(
          'DELETE FROM idempotency WHERE key IN ' +
            '(SELECT key FROM idempotency WHERE expires <= ? ORDER BY expires LIMIT ?)',
        )
        .run(now, PRUNE_BATCH);
      const row = this.db
        .prepare(
          'SELECT fingerprint, status, answer FROM idempotency WHERE key = ? AND expires > ?',
        )
        .get(key, now) as Row | undefined;
      if (row) return decide(toEntry(row), fingerprint);
      this.db
        .prepare(
          'INSERT OR REPLACE INTO idempotency (key, fingerprint, status, answer, expires) ' +
            'VALUES (?, ?, NULL, NULL, ?)',
        )
        .run(key, fingerprint, now + PENDING_TTL_MS);
      return { outcome: 'proceed' };
    })();
  }

  async complete(key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    const answer = packAnswer(response);
    if (!answer) {
      this.db.prepare('DELETE FROM idempotency WHERE key = ?').run(key);
      return;
    }
    this.db
      .prepare(
        'INSERT OR REPLACE INTO idempotency (key, fingerprint, status, answer, expires) ' +
          'VALUES (?, ?, ?, ?, ?)',
      )
      .run(key, fingerprint, answer.status, answer.body, this.now() + IDEMPOTENCY_TTL_MS);
  }

  async abandon(key: string, fingerprint: string): Promise<void> {
    this.db
      .prepare('DELETE FROM idempotency WHERE key = ? AND fingerprint = ? AND answer IS NULL')
      .run(key, fingerprint);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toEntry(row: Row) {
  return {
    fingerprint: row.fingerprint,
    ...(row.answer ? { answer: { status: row.status ?? 202, body: row.answer } } : {}),
  };
}
