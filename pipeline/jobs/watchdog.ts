import { toErrorRecord } from '../../functions/errors.js';
import type { Orchestrator } from './orchestrator.js';
import type { JobStore } from './store.js';

export interface WatchdogDeps {
  jobs: Pick<JobStore, 'idle'>;
  orchestrator: Pick<Orchestrator, 'recover'>;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** Removes scratch of ended jobs; run every `SWEEP_EVERY` passes. */
  sweepScratch?: () => Promise<string[]>;
}

/** The scratch sweep lists storage, so it runs on every tenth pass only (5 min by default). */
const SWEEP_EVERY = 10;

export interface WatchdogOptions {
  intervalMs: number;
  /** An open job with no activity for this long is checked. */
  graceMs: number;
  /** Jobs checked per pass at most; the rest wait for the next pass. */
  batch?: number;
}

/**
 * One pass: every open job idle past the grace period, oldest first, goes through the
 * orchestrator's `recover`. It reads the store's activity index (no scan of all jobs), and each
 * checked job's clock is reset, so a long backlog costs one runner query per job per grace period.
 */
export async function watchdogPass(
  deps: WatchdogDeps,
  options: Pick<WatchdogOptions, 'graceMs' | 'batch'>,
): Promise<Record<string, number>> {
  const ids = await deps.jobs.idle(Date.now() - options.graceMs, options.batch ?? 100);
  const counts: Record<string, number> = {};
  for (const id of ids) {
    try {
      const outcome = await deps.orchestrator.recover(id);
      counts[outcome] = (counts[outcome] ?? 0) + 1;
    } catch (error) {
      counts.error = (counts.error ?? 0) + 1;
      deps.log.warn({ jobId: id, err: toErrorRecord(error) }, 'watchdog could not check a job');
    }
  }
  return counts;
}

/**
 * The watchdog `serve` runs: a pass every `intervalMs`, never two at once. Several serve
 * processes may run it together: re-driving is idempotent and ending a job is claimed atomically.
 * Returns a stop function that waits for a pass in progress.
 */
export function startWatchdog(deps: WatchdogDeps, options: WatchdogOptions): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let passes = 0;
  const pass = () => {
    running = watchdogPass(deps, options)
      .then(async (counts) => {
        if (counts.redriven || counts.failed || counts.compensated || counts.error)
          deps.log.info(counts, 'watchdog recovered idle jobs');
        if (deps.sweepScratch && ++passes % SWEEP_EVERY === 1) {
          const cleaned = await deps.sweepScratch();
          if (cleaned.length) deps.log.info({ jobs: cleaned.length }, 'left-over scratch removed');
        }
      })
      .catch((error: unknown) =>
        deps.log.warn({ err: toErrorRecord(error) }, 'watchdog pass failed; will try again'),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(pass, options.intervalMs);
      });
  };
  timer = setTimeout(pass, options.intervalMs);
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
