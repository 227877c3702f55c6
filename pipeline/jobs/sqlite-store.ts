import { EventEmitter } from 'node:events';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MediaflowError } from '../../functions/errors.js';
import type { TaskResult } from '../plan/types.js';
import {
  isFinal,
  JOB_STATES,
  mergeTaskStatus,
  taskWriteApplies,
  type JobEvent,
  type JobRecord,
  type JobState,
  type TaskStatus,
} from './job.js';
import {
  expiryOf,
  PRUNE_BATCH,
  resolveRetention,
  type Retention,
  type RetentionOptions,
} from './retention.js';
import { openSqlite } from './open-sqlite.js';
import { asciiLower } from './search.js';
import type { JobListQuery, JobPage, JobStore, StateGuard } from './store.js';

/** The embedded store's file in the data folder. */
export const SQLITE_FILE = 'jobs.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  record TEXT NOT NULL,
  activity INTEGER,
  expires INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, seq);
CREATE INDEX IF NOT EXISTS jobs_activity ON jobs (activity) WHERE activity IS NOT NULL;
CREATE TABLE IF NOT EXISTS tasks (
  job TEXT NOT NULL, task TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (job, task)
);
CREATE TABLE IF NOT EXISTS results (
  job TEXT NOT NULL, task TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (job, task)
);
CREATE TABLE IF NOT EXISTS writes (job TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (job, key));
CREATE TABLE IF NOT EXISTS job_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL);
`;

/**
 * Jobs per state kept by triggers, so `counts` reads five rows whatever the number of jobs. Added
 * after the `expires` column, which files from before retention lack until then.
 */
const COUNTED = `
CREATE INDEX IF NOT EXISTS jobs_expires ON jobs (expires) WHERE expires IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS jobs_counted_insert AFTER INSERT ON jobs BEGIN
  UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER IF NOT EXISTS jobs_counted_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
END;
CREATE TRIGGER IF NOT EXISTS jobs_counted_update AFTER UPDATE OF state ON jobs
WHEN OLD.state <> NEW.state BEGIN
  UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
  UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;
END;
`;

const FINAL_STATES = `('succeeded', 'failed', 'cancelled')`;
/** A finished job past its expiry is gone, whether or not it has been pruned yet. */
const UNEXPIRED = '(expires IS NULL OR expires > ?)';

type Row = { seq: number; record: string };

/**
 * Job state in a SQLite file (better-sqlite3): the embedded mode's store, so `serve` after `demo`
 * (or after a restart) still lists every job. One process owns the file; every statement runs
 * synchronously in it, so each method is atomic without further locking, and watchers are told
 * in-process. The job record (without tasks) is one JSON column; tasks, results and written keys
 * have a row each, so a progress update rewrites one small row.
 */
export class SqliteJobStore implements JobStore {
  private readonly db: Database.Database;
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly retention: Retention;

  /** `file` is a path, or ':memory:' for tests. */
  constructor(file: string, retention: RetentionOptions = {}) {
    this.retention = resolveRetention(retention);
    this.db = openSqlite(file, 'job store', (db) => {
      db.exec(SCHEMA);
      this.migrate(db);
    });
  }

  /** The embedded store in a data folder. */
  static inDataDir(dataDir: string, retention: RetentionOptions = {}): SqliteJobStore {
    return new SqliteJobStore(path.join(dataDir, SQLITE_FILE), retention);
  }

  /**
   * Brings a file up to date: the `expires` column (files from before retention), the retention
   * setting applied to finished jobs already kept (it may have changed since the last start), and
   * the per-state counts recounted once here, so they are right whatever wrote the file before.
   */
  private migrate(db: Database.Database): void {
    const columns = db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'expires'))
      db.exec('ALTER TABLE jobs ADD COLUMN expires INTEGER');
    db.exec(COUNTED);
    db.transaction(() => {
      const expires = expiryOf(this.retention);
      if (expires === null) db.exec('UPDATE jobs SET expires = NULL WHERE expires IS NOT NULL');
      else
        db.prepare(
          `UPDATE jobs SET expires = ? WHERE expires IS NULL AND state IN ${FINAL_STATES}`,
        ).run(expires);
      db.exec('DELETE FROM job_counts');
      const insert = db.prepare(
        'INSERT INTO job_counts (state, n) VALUES (?, (SELECT COUNT(*) FROM jobs WHERE state = ?))',
      );
      for (const state of JOB_STATES) insert.run(state, state);
    })();
  }

  async create(job: JobRecord): Promise<boolean> {
    const { tasks, ...record } = job;
    const created = this.db.transaction(() => {
      this.prune();
      const info = this.db
        .prepare(
          'INSERT INTO jobs (id, state, record, activity, expires) VALUES (?, ?, ?, ?, ?) ' +
            'ON CONFLICT (id) DO NOTHING',
        )
        .run(
          job.spec.id,
          job.state,
          JSON.stringify(record),
          isFinal(job.state) ? null : Date.now(),
          isFinal(job.state) ? expiryOf(this.retention) : null,
        );
      if (info.changes === 0) return false;
      for (const [taskId, status] of Object.entries(tasks))
        this.putTask(job.spec.id, taskId, status);
      return true;
    })();
    if (created) this.emit({ type: 'job', jobId: job.spec.id, state: job.state });
    return created;
  }

  async get(id: string): Promise<JobRecord | null> {
    const row = this.db
      .prepare(`SELECT seq, record FROM jobs WHERE id = ? AND ${UNEXPIRED}`)
      .get(id, this.retention.now()) as Row | undefined;
    return row ? this.toRecord(id, row.record) : null;
  }

  async setState(
    id: string,
    patch: Partial<Pick<JobRecord, 'state' | 'stage' | 'outputs' | 'error'>>,
    guard?: StateGuard,
  ): Promise<boolean> {
    const job = this.db.transaction(() => {
      const current = this.requireRecord(id);
      if (guard && (isFinal(current.state) || current.error)) return null;
      if (typeof guard === 'object' && current.stage !== guard.openAtStage) return null;
      const next: Omit<JobRecord, 'tasks'> = {
        ...current,
        ...patch,
        updatedAt: new Date().toISOString(),
      };
      // A patch with `error: undefined` clears the error (a retry reopening the job).
      if ('error' in patch && patch.error === undefined) delete next.error;
      this.db
        .prepare('UPDATE jobs SET state = ?, record = ?, activity = ? WHERE id = ?')
        .run(next.state, JSON.stringify(next), isFinal(next.state) ? null : Date.now(), id);
      // Finishing starts the retention clock; reopening (a retry) stops it.
      if (next.state !== current.state)
        this.db
          .prepare('UPDATE jobs SET expires = ? WHERE id = ?')
          .run(isFinal(next.state) ? expiryOf(this.retention) : null, id);
      return next;
    })();
    if (!job) return false;
    this.emit({
      type: 'job',
      jobId: id,
      state: job.state,
      ...(job.error ? { error: job.error } : {}),
    });
    return true;
  }

  async setTask(id: string, taskId: string, status: TaskStatus): Promise<void> {
    const merged = this.db.transaction(() => {
      const current = this.requireRecord(id);
      const stored = this.db
        .prepare('SELECT status FROM tasks WHERE job = ? AND task = ?')
        .get(id, taskId) as { status: string } | undefined;
      const previous: TaskStatus | undefined = stored ? JSON.parse(stored.status) : undefined;
      if (!taskWriteApplies(current, previous, status)) return null;
      const next = mergeTaskStatus(previous, status);
      this.putTask(id, taskId, next);
      const record = { ...current, updatedAt: new Date().toISOString() };
      this.db
        .prepare('UPDATE jobs SET record = ?, activity = ? WHERE id = ?')
        .run(JSON.stringify(record), isFinal(record.state) ? null : Date.now(), id);
      return next;
    })();
    if (merged) this.emit({ type: 'task', jobId: id, taskId, status: merged });
  }

  async setTaskProgress(id: string, taskId: string, progress: number): Promise<void> {
    const status = this.db.transaction(() => {
      const stored = this.db
        .prepare('SELECT status FROM tasks WHERE job = ? AND task = ?')
        .get(id, taskId) as { status: string } | undefined;
      if (!stored) return null;
      const next = { ...(JSON.parse(stored.status) as TaskStatus), progress };
      this.putTask(id, taskId, next);
      this.db
        .prepare('UPDATE jobs SET activity = ? WHERE id = ? AND activity IS NOT NULL')
        .run(Date.now(), id);
      return next;
    })();
    if (status) this.emit({ type: 'task', jobId: id, taskId, status });
  }

  async putResults(id: string, results: Record<string, TaskResult>): Promise<void> {
    this.requireRecord(id);
    const put = this.db.prepare(
      'INSERT INTO results (job, task, result) VALUES (?, ?, ?) ' +
        'ON CONFLICT (job, task) DO UPDATE SET result = excluded.result',
    );
    this.db.transaction(() => {
      for (const [taskId, result] of Object.entries(results))
        put.run(id, taskId, JSON.stringify(result));
    })();
  }

  async getResults(id: string): Promise<Record<string, TaskResult>> {
    this.requireRecord(id);
    const rows = this.db.prepare('SELECT task, result FROM results WHERE job = ?').all(id) as {
      task: string;
      result: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.task, JSON.parse(r.result) as TaskResult]));
  }

  async recordWrites(id: string, keys: string[]): Promise<void> {
    this.requireRecord(id);
    const put = this.db.prepare('INSERT OR IGNORE INTO writes (job, key) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const key of keys) put.run(id, key);
    })();
  }

  async getWrites(id: string): Promise<string[]> {
    this.requireRecord(id);
    const rows = this.db.prepare('SELECT key FROM writes WHERE job = ? ORDER BY key').all(id) as {
      key: string;
    }[];
    return rows.map((r) => r.key);
  }

  async resetTasks(id: string, taskIds: string[]): Promise<void> {
    this.requireRecord(id);
    const dropTask = this.db.prepare('DELETE FROM tasks WHERE job = ? AND task = ?');
    const dropResult = this.db.prepare('DELETE FROM results WHERE job = ? AND task = ?');
    this.db.transaction(() => {
      for (const taskId of taskIds) {
        dropTask.run(id, taskId);
        dropResult.run(id, taskId);
      }
    })();
  }

  async list(query: JobListQuery): Promise<JobPage> {
    this.db.transaction(() => this.prune())();
    // Newest first by insertion; the cursor is the last row's sequence number. One this store
    // never issued (not a positive number) starts over rather than paging in circles.
    const after = query.cursor ? Number.parseInt(query.cursor, 10) : Number.NaN;
    const below = Number.isFinite(after) && after > 0 ? after : Number.MAX_SAFE_INTEGER;
    const where = ['seq < ?'];
    const params: (string | number)[] = [below];
    if (query.state) {
      where.push('state = ?');
      params.push(query.state);
    }
    if (query.q) {
      // instr, not LIKE: the search is plain text, with no wildcards to escape.
      where.push(
        "(instr(lower(json_extract(record, '$.spec.source.key')), ?) > 0 OR " +
          "instr(lower(json_extract(record, '$.spec.preset.name')), ?) > 0)",
      );
      params.push(asciiLower(query.q), asciiLower(query.q));
    }
    const rows = this.db
      .prepare(
        `SELECT id, seq, record FROM jobs WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`,
      )
      .all(...params, query.limit + 1) as (Row & { id: string })[];
    const page = rows.slice(0, query.limit);
    return {
      jobs: page.map((r) => this.toRecord(r.id, r.record)),
      nextCursor: rows.length > query.limit ? String(page.at(-1)!.seq) : null,
    };
  }

  async counts(): Promise<Record<JobState, number>> {
    this.db.transaction(() => this.prune())();
    const rows = this.db.prepare('SELECT state, n FROM job_counts').all() as {
      state: JobState;
      n: number;
    }[];
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  async idle(before: number, limit: number): Promise<string[]> {
    const rows = this.db
      .prepare(
        'SELECT id FROM jobs WHERE activity IS NOT NULL AND activity < ? ' +
          'ORDER BY activity, seq LIMIT ?',
      )
      .all(before, limit) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async touch(id: string): Promise<void> {
    this.requireRecord(id);
    this.db
      .prepare('UPDATE jobs SET activity = ? WHERE id = ? AND activity IS NOT NULL')
      .run(Date.now(), id);
  }

  watch(listener: (event: JobEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
    if (this.db.open) this.db.close();
  }

  /** Removes up to PRUNE_BATCH expired jobs with their rows; run inside a transaction. */
  private prune(): void {
    const due = this.db
      .prepare(
        'SELECT id FROM jobs WHERE expires IS NOT NULL AND expires <= ? ORDER BY expires LIMIT ?',
      )
      .all(this.retention.now(), PRUNE_BATCH) as { id: string }[];
    for (const table of ['tasks', 'results', 'writes'])
      for (const { id } of due) this.db.prepare(`DELETE FROM ${table} WHERE job = ?`).run(id);
    for (const { id } of due) this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
  }

  private putTask(id: string, taskId: string, status: TaskStatus): void {
    this.db
      .prepare(
        'INSERT INTO tasks (job, task, status) VALUES (?, ?, ?) ' +
          'ON CONFLICT (job, task) DO UPDATE SET status = excluded.status',
      )
      .run(id, taskId, JSON.stringify(status));
  }

  private toRecord(id: string, json: string): JobRecord {
    const tasks = this.db
      .prepare('SELECT task, status FROM tasks WHERE job = ? ORDER BY rowid')
      .all(id) as { task: string; status: string }[];
    return {
      ...(JSON.parse(json) as Omit<JobRecord, 'tasks'>),
      tasks: Object.fromEntries(tasks.map((t) => [t.task, JSON.parse(t.status) as TaskStatus])),
    };
  }

  private requireRecord(id: string): Omit<JobRecord, 'tasks'> {
    const row = this.db
      .prepare(`SELECT record FROM jobs WHERE id = ? AND ${UNEXPIRED}`)
      .get(id, this.retention.now()) as { record: string } | undefined;
    if (!row) throw new MediaflowError('JOB_NOT_FOUND', `job ${id} not found`);
    return JSON.parse(row.record) as Omit<JobRecord, 'tasks'>;
  }

  private emit(event: JobEvent): void {
    this.events.emit('event', event);
  }
}
