import fs from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import type { Schedule } from '../presets/file-schema.js';
import {
  runSchedule,
  viewOf,
  type ScheduleDeps,
  type ScheduleRun,
  type Scheduler,
} from './port.js';

/**
 * The embedded mode's timer: croner in this process, one timer per schedule, never two runs of
 * one schedule at once (a run still going when the next time comes skips that time).
 *
 * Each run is recorded in `stateFile`. At start, a schedule whose last recorded run is older than
 * its latest due time missed one or more times while the process was down: it runs once, at
 * once, as a catch-up (one run covers them all, since a run submits every object under the
 * prefix), then keeps its times. A schedule never run before has nothing to catch up.
 */
export function startInProcessScheduler(
  deps: ScheduleDeps,
  schedules: readonly Schedule[],
  stateFile: string,
  now: () => Date = () => new Date(),
): Scheduler {
  const last = readState(stateFile);
  const running = new Set<Promise<unknown>>();
  const fire = (schedule: Schedule, scheduledFor: Date, catchUp: boolean) => {
    const run = runSchedule(deps, schedule, scheduledFor, catchUp).then((result) => {
      last[schedule.name] = result;
      writeState(stateFile, last, deps);
    });
    running.add(run);
    return run.finally(() => running.delete(run));
  };
  const timers = schedules.map((schedule) => {
    const cron: Cron = new Cron(
      schedule.cron,
      { protect: true, ...(schedule.timezone ? { timezone: schedule.timezone } : {}) },
      () => fire(schedule, cron.currentRun() ?? now(), false),
    );
    const previous = last[schedule.name];
    if (previous) {
      const due = cron.nextRun(new Date(previous.scheduledFor));
      if (due && due < now()) void fire(schedule, due, true);
    }
    return { schedule, cron };
  });
  return {
    async list() {
      return timers.map(({ schedule, cron }) =>
        viewOf(schedule, last[schedule.name], cron.nextRun()),
      );
    },
    async close() {
      for (const { cron } of timers) cron.stop();
      await Promise.allSettled([...running]);
    },
  };
}

function readState(file: string): Record<string, ScheduleRun> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, ScheduleRun>;
  } catch {
    return {};
  }
}

/** Written whole to a temporary file and renamed, so a crash never leaves half a file. */
function writeState(file: string, state: Record<string, ScheduleRun>, deps: ScheduleDeps): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
    fs.renameSync(`${file}.tmp`, file);
  } catch (error) {
    deps.log.warn({ file, err: (error as Error).message }, 'could not record a schedule run');
  }
}
