import type { Redis } from 'ioredis';
import { STORAGE_PRINCIPAL } from './auth.js';

/**
 * Who may see a job. A job's id is derived from the source and preset, not from who asked, so two
 * callers submitting the same object get the same job (processed once, one set of outputs) and
 * both become its owners: each sees it, neither sees the other's other jobs. A job nobody
 * submitted through the API came from a bucket event and belongs to the `storage` principal,
 * which only admins see. Admins (MEDIAFLOW_ADMIN_KEYS, or a keyless loopback API) see every job.
 */
export interface JobOwners {
  add(jobId: string, principal: string): Promise<void>;
  /** The principals that submitted the job; `storage` alone for jobs made by events. */
  of(jobId: string): Promise<ReadonlySet<string>>;
}

/** True when `principal` (an admin or not) may see the job. */
export async function mayAccess(
  owners: JobOwners,
  jobId: string,
  principal: { name: string; admin: boolean },
): Promise<boolean> {
  return principal.admin || (await owners.of(jobId)).has(principal.name);
}

const STORAGE_ONLY: ReadonlySet<string> = new Set([STORAGE_PRINCIPAL]);

/** Owners in this process's memory (embedded mode, one `serve`). */
export class MemoryJobOwners implements JobOwners {
  private readonly byJob = new Map<string, Set<string>>();

  async add(jobId: string, principal: string): Promise<void> {
    const set = this.byJob.get(jobId) ?? new Set<string>();
    set.add(principal);
    this.byJob.set(jobId, set);
  }

  async of(jobId: string): Promise<ReadonlySet<string>> {
    return this.byJob.get(jobId) ?? STORAGE_ONLY;
  }
}

/**
 * Adds an owner; a set made after its job finished (a caller submitting a finished job) takes the
 * job's TTL, so it expires with the job (MEDIAFLOW_JOB_RETENTION_DAYS). KEYS: owners, job.
 */
const ADD_OWNER = `
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
`;

/**
 * Owners in Redis (one set per job, `<prefix>owners:<id>`), shared by every `serve` process.
 * `prefix` is the job store's: the store expires a finished job's owners with its record.
 */
export class RedisJobOwners implements JobOwners {
  constructor(
    private readonly redis: Pick<Redis, 'eval' | 'smembers'>,
    private readonly prefix = 'mediaflow:',
  ) {}

  async add(jobId: string, principal: string): Promise<void> {
    await this.redis.eval(
      ADD_OWNER,
      2,
      `${this.prefix}owners:${jobId}`,
      `${this.prefix}job:${jobId}`,
      principal,
    );
  }

  async of(jobId: string): Promise<ReadonlySet<string>> {
    const members = await this.redis.smembers(`${this.prefix}owners:${jobId}`);
    return members.length ? new Set(members) : STORAGE_ONLY;
  }
}
