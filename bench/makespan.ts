import type { TaskTiming } from './embedded.js';

/**
 * Projects a job's makespan on `workers` single-task workers from measured task durations: each
 * stage is scheduled longest-task-first onto the least-loaded worker (stages are barriers), plus
 * the measured time outside tasks (planning, queueing, manifest). It assumes a worker runs a task
 * as fast as it ran here, which holds when each worker has the cores a task used here.
 */
export function projectMakespan(
  stages: TaskTiming[][],
  outsideSeconds: number,
  workers: number,
): number {
  let total = outsideSeconds;
  for (const stage of stages) {
    const loads = new Array<number>(workers).fill(0);
    for (const d of stage.map((t) => (t.end - t.start) / 1000).sort((a, b) => b - a)) {
      const i = loads.indexOf(Math.min(...loads));
      loads[i]! += d;
    }
    total += Math.max(...loads);
  }
  return total;
}

/**
 * The video workflow's stages by task kind (stages are barriers; tasks within one run in parallel).
 */
const STAGE_OF: Record<string, number> = {
  probe: 0,
  split: 1,
  thumbnails: 2,
  transcode: 2,
  audio: 2,
  merge: 3,
  master: 4,
  loudnorm: 1,
  image: 0,
};

export function groupStages(timings: TaskTiming[]): TaskTiming[][] {
  const stages: TaskTiming[][] = [];
  for (const t of timings) {
    const stage = STAGE_OF[t.kind] ?? 0;
    stages[stage] ??= [];
    stages[stage].push(t);
  }
  return stages.filter(Boolean);
}

/** Wall time of each stage: from its first task's start to its last task's end. */
export function stageWalls(stages: TaskTiming[][]): number[] {
  return stages.map(
    (s) => (Math.max(...s.map((t) => t.end)) - Math.min(...s.map((t) => t.start))) / 1000,
  );
}
