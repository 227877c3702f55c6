/** Days a finished job is kept when nothing else is configured (MEDIAFLOW_JOB_RETENTION_DAYS). */
export const DEFAULT_RETENTION_DAYS = 30;

/**
 * Expired jobs one call removes at most: pruning rides along with ordinary calls (a create, a
 * count), so none of them is ever O(all jobs). Each job expires once and every create prunes, so
 * the backlog cannot outgrow the jobs being created.
 */
export const PRUNE_BATCH = 100;

/** How a job store keeps finished jobs. */
export interface RetentionOptions {
  /**
   * Milliseconds a job is kept after it reaches a final state (succeeded, failed, cancelled);
   * 0 keeps it forever. Open jobs never expire; a retry that reopens a job clears its expiry.
   */
  retentionMs?: number;
  /** The clock (epoch ms); tests inject one. */
  now?: () => number;
}

export interface Retention {
  ms: number;
  now: () => number;
}

export function resolveRetention(options: RetentionOptions = {}): Retention {
  return {
    ms: options.retentionMs ?? DEFAULT_RETENTION_DAYS * 24 * 3600 * 1000,
    now: options.now ?? Date.now,
  };
}

/** When a job reaching a final state now expires (epoch ms), or null to keep it forever. */
export function expiryOf(retention: Retention): number | null {
  return retention.ms > 0 ? retention.now() + retention.ms : null;
}
