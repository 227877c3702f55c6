import { EventEmitter } from 'node:events';
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
import type { JobListQuery, JobPage, JobStore, StateGuard } from './store.js';
import { asciiLower, matchesSearch } from './search.js';

/**
 * Job state in this process's memory: the embedded mode's store. Outputs survive a restart
 * anyway, because each job's manifest in storage is its commit record.
 */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly results = new Map<string, Record<string, TaskResult>>();
  private readonly writes = new Map<string, Set<string>>();
  /** Last activity (epoch ms) of each open job, for `idle`; final jobs leave it. */
  private readonly activity = new Map<string, number>();
  /**
   * Finished jobs by expiry (epoch ms). Retention is one duration, so insertion order is expiry
   * order: pruning reads from the front and stops at the first job not yet due.
   */
  private readonly expiring = new Map<string, number>();
  private readonly counted = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<
    JobState,
    number
  >;
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly retention: Retention;

  constructor(options: RetentionOptions = {}) {
    this.retention = resolveRetention(options);
  }

  async create(job: JobRecord): Promise<boolean> {
    this.prune();
    if (this.jobs.has(job.spec.id)) return false;
    this.jobs.set(job.spec.id, structuredClone(job));
    this.results.set(job.spec.id, {});
    this.counted[job.state] += 1;
    this.retain(job.spec.id, job.state);
    this.active(job.spec.id);
    this.emit({ type: 'job', jobId: job.spec.id, state: job.state });
    return true;
  }

  async get(id: string): Promise<JobRecord | null> {
    const job = this.jobs.get(id);
    return job && !this.expired(id) ? structuredClone(job) : null;
  }

  async setState(
    id: string,
    patch: Partial<Pick<JobRecord, 'state' | 'stage' | 'outputs' | 'error'>>,
    guard?: StateGuard,
  ): Promise<boolean> {
    const job = this.require(id);
    if (guard && (isFinal(job.state) || job.error)) return false;
    if (typeof guard === 'object' && job.stage !== guard.openAtStage) return false;
    const before = job.state;
    Object.assign(job, structuredClone(patch), { updatedAt: new Date().toISOString() });
    if (job.state !== before) {
      this.counted[before] -= 1;
      this.counted[job.state] += 1;
      this.retain(id, job.state);
    }
    this.active(id);
    this.emit({
      type: 'job',
      jobId: id,
      state: job.state,
      ...(job.error ? { error: job.error } : {}),
    });
    return true;
  }

  async setTask(id: string, taskId: string, status: TaskStatus): Promise<void> {
    const job = this.require(id);
    if (!taskWriteApplies(job, job.tasks[taskId], status)) return;
    const merged = mergeTaskStatus(job.tasks[taskId], structuredClone(status));
    job.tasks[taskId] = merged;
    job.updatedAt = new Date().toISOString();
    this.active(id);
    this.emit({ type: 'task', jobId: id, taskId, status: structuredClone(merged) });
  }

  async setTaskProgress(id: string, taskId: string, progress: number): Promise<void> {
    const task = this.jobs.get(id)?.tasks[taskId];
    if (!task) return;
    task.progress = progress;
    this.active(id);
    this.emit({ type: 'task', jobId: id, taskId, status: structuredClone(task) });
  }

  async putResults(id: string, results: Record<string, TaskResult>): Promise<void> {
    Object.assign(this.requireResults(id), structuredClone(results));
  }

  async getResults(id: string): Promise<Record<string, TaskResult>> {
    return structuredClone(this.requireResults(id));
  }

  async recordWrites(id: string, keys: string[]): Promise<void> {
    this.require(id);
    const set = this.writes.get(id) ?? new Set<string>();
    for (const key of keys) set.add(key);
    this.writes.set(id, set);
  }

  async getWrites(id: string): Promise<string[]> {
    this.require(id);
    return [...(this.writes.get(id) ?? [])].sort();
  }

  async resetTasks(id: string, taskIds: string[]): Promise<void> {
    const job = this.require(id);
    const results = this.requireResults(id);
    for (const taskId of taskIds) {
      delete job.tasks[taskId];
      delete results[taskId];
    }
  }

  async list(query: JobListQuery): Promise<JobPage> {
    this.prune();
    // Newest first; the cursor is the position after the last job returned.
    const needle = asciiLower(query.q ?? '');
    const all = [...this.jobs.values()]
      .filter((j) => !query.state || j.state === query.state)
      .filter((j) => !needle || matchesSearch(j, needle))
      .reverse();
    // A cursor this store never issued (negative, not a number) starts over rather than paging
    // backwards.
    const start = query.cursor ? Math.max(0, Number.parseInt(query.cursor, 10) || 0) : 0;
    const page = all.slice(start, start + query.limit);
    const next = start + page.length;
    return { jobs: structuredClone(page), nextCursor: next < all.length ? String(next) : null };
  }

  async counts(): Promise<Record<JobState, number>> {
    this.prune();
    return { ...this.counted };
  }

  async idle(before: number, limit: number): Promise<string[]> {
    // Open jobs only: this map never holds the finished ones, so it stays small.
    return [...this.activity]
      .filter(([, at]) => at < before)
      .sort((a, b) => a[1] - b[1])
      .slice(0, limit)
      .map(([id]) => id);
  }

  async touch(id: string): Promise<void> {
    this.require(id);
    this.active(id);
  }

  watch(listener: (event: JobEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
  }

  private emit(event: JobEvent): void {
    this.events.emit('event', event);
  }

  /** A job that reached a final state gets an expiry; one reopened (a retry) loses it. */
  private retain(id: string, state: JobState): void {
    this.expiring.delete(id);
    const expires = isFinal(state) ? expiryOf(this.retention) : null;
    if (expires !== null) this.expiring.set(id, expires);
  }

  private expired(id: string): boolean {
    const expires = this.expiring.get(id);
    return expires !== undefined && expires <= this.retention.now();
  }

  /** Removes up to PRUNE_BATCH expired jobs, oldest first. */
  private prune(): void {
    let removed = 0;
    for (const [id, expires] of this.expiring) {
      if (expires > this.retention.now() || removed++ >= PRUNE_BATCH) return;
      const job = this.jobs.get(id);
      if (job) this.counted[job.state] -= 1;
      this.expiring.delete(id);
      this.jobs.delete(id);
      this.results.delete(id);
      this.writes.delete(id);
      this.activity.delete(id);
    }
  }

  /** Records activity now for an open job; a final job leaves the watchdog's index. */
  private active(id: string): void {
    const job = this.jobs.get(id);
    if (job && !isFinal(job.state)) this.activity.set(id, Date.now());
    else this.activity.delete(id);
  }

  private require(id: string): JobRecord {
    const job = this.jobs.get(id);
    if (!job || this.expired(id)) throw new MediaflowError('JOB_NOT_FOUND', `job ${id} not found`);
    return job;
  }

  private requireResults(id: string): Record<string, TaskResult> {
    const results = this.results.get(id);
    if (!results) throw new MediaflowError('JOB_NOT_FOUND', `job ${id} not found`);
    return results;
  }
}
