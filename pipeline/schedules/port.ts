import { toErrorRecord } from '../../functions/errors.js';
import type { Orchestrator } from '../jobs/orchestrator.js';
import type { Logger } from '../log.js';
import type { Schedule } from '../presets/file-schema.js';
import type { ObjectStore } from '../storage/port.js';
import { sweepOnce, type SweepReport } from '../triggers/sweep.js';

/** One firing of a schedule. */
export interface ScheduleRun {
  /** The time it was due (a catch-up run is due at the missed time). */
  scheduledFor: string;
  startedAt: string;
  /** Set when the run made up for times missed while nothing ran. */
  catchUp: boolean;
  report: SweepReport | undefined;
  error: string | undefined;
}

/** A schedule as GET /v1/schedules shows it. */
export interface ScheduleView {
  name: string;
  cron: string;
  timezone: string | null;
  bucket: string;
  prefix: string;
  preset: string | null;
  lastRun: ScheduleRun | null;
  nextRun: string | null;
}

/** The timer trigger: fires each schedule at its times, in one process or across many. */
export interface Scheduler {
  list(): Promise<ScheduleView[]>;
  close(): Promise<void>;
}

export interface ScheduleDeps {
  store: ObjectStore;
  orchestrator: Orchestrator;
  inputBucket: string;
  log: Logger;
  /** Sees every run as it ends (tests, metrics). */
  onRun?: (name: string, run: ScheduleRun) => void;
}

/**
 * One firing: every object under the prefix goes through the trigger port as a batch (with the
 * schedule's preset as a command, else as an upload event, so routes apply). Submission is
 * idempotent, so objects that already have their jobs do nothing.
 */
export async function runSchedule(
  deps: ScheduleDeps,
  schedule: Schedule,
  scheduledFor: Date,
  catchUp: boolean,
): Promise<ScheduleRun> {
  const startedAt = new Date().toISOString();
  let run: ScheduleRun;
  try {
    const report = await sweepOnce(deps, undefined, {
      prefix: schedule.prefix,
      ...(schedule.preset ? { preset: schedule.preset } : {}),
    });
    run = {
      scheduledFor: scheduledFor.toISOString(),
      startedAt,
      catchUp,
      report,
      error: undefined,
    };
    deps.log.info({ schedule: schedule.name, catchUp, ...report }, 'schedule ran');
  } catch (error) {
    const record = toErrorRecord(error);
    run = {
      scheduledFor: scheduledFor.toISOString(),
      startedAt,
      catchUp,
      report: undefined,
      error: record.message,
    };
    deps.log.warn({ schedule: schedule.name, err: record }, 'schedule run failed');
  }
  deps.onRun?.(schedule.name, run);
  return run;
}

/**
 * The schedules a process can run: one whose bucket is not the input bucket is left out with
 * an error in the log (the trigger port ignores every other bucket, so it would never do
 * anything).
 */
export function usableSchedules(
  schedules: readonly Schedule[],
  inputBucket: string,
  log: Logger,
): Schedule[] {
  return schedules.filter((s) => {
    if (s.bucket === inputBucket) return true;
    log.error(
      { schedule: s.name, bucket: s.bucket, inputBucket },
      'schedule left out: its bucket is not the input bucket',
    );
    return false;
  });
}

export function viewOf(
  schedule: Schedule,
  lastRun: ScheduleRun | undefined,
  nextRun: Date | null | undefined,
): ScheduleView {
  return {
    name: schedule.name,
    cron: schedule.cron,
    timezone: schedule.timezone ?? null,
    bucket: schedule.bucket,
    prefix: schedule.prefix,
    preset: schedule.preset ?? null,
    lastRun: lastRun ?? null,
    nextRun: nextRun ? nextRun.toISOString() : null,
  };
}
