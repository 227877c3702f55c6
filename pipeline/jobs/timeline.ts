import { isFinal, jobProgress, type JobRecord, type TaskStatus } from './job.js';

/** A task with its id, as the timeline lists it. */
export type TimelineTask = TaskStatus & { id: string };

/**
 * The job's tasks in plan order: by stage, then by their place in the stage's plan (probe, split,
 * transcode 0..N with the audio and thumbnails, merge per rendition, master). Tasks recorded before
 * plan order was stored fall back to their ids, numbers compared as numbers.
 */
export function tasksInPlanOrder(job: Pick<JobRecord, 'tasks'>): TimelineTask[] {
  return Object.entries(job.tasks)
    .map(([id, status]) => ({ ...status, id }))
    .sort(
      (a, b) =>
        a.stage - b.stage ||
        (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER) ||
        a.id.localeCompare(b.id, 'en', { numeric: true }),
    );
}

/**
 * What the job is doing now, for people: "stage 3/5: transcode×8, audio, thumbnails". The number of
 * stages is the workflow's expectation (its stage weights); undefined once the job has ended or
 * before its first stage.
 */
export function currentStage(
  job: Pick<JobRecord, 'spec' | 'state' | 'stage' | 'tasks'>,
): string | undefined {
  if (isFinal(job.state) || job.stage === 0) return undefined;
  const counts = new Map<string, number>();
  for (const task of tasksInPlanOrder(job))
    if (task.stage === job.stage) counts.set(task.kind, (counts.get(task.kind) ?? 0) + 1);
  const kinds = [...counts].map(([kind, n]) => (n > 1 ? `${kind}×${n}` : kind)).join(', ');
  // Stage numbers keep counting across retries; people count the stages this run went through.
  const ordinal = new Set(Object.values(job.tasks).map((t) => t.stage)).size || 1;
  const total = Math.max(job.spec.stageWeights?.length ?? 0, ordinal);
  return `stage ${ordinal}/${total}${kinds ? `: ${kinds}` : ''}`;
}

/** When the job's first task started (ms since the epoch), if one has. */
export function firstStart(job: Pick<JobRecord, 'tasks'>): number | undefined {
  const starts = Object.values(job.tasks)
    .map((t) => (t.startedAt ? Date.parse(t.startedAt) : Number.NaN))
    .filter((t) => Number.isFinite(t));
  return starts.length ? Math.min(...starts) : undefined;
}

/**
 * Seconds left, extrapolated from the time since the first task started and the weighted
 * progress. Undefined while there is too little progress to say anything (under 3%) and once the
 * job has ended. A rough figure: the stage weights are estimates.
 */
export function etaSeconds(
  job: Pick<JobRecord, 'spec' | 'state' | 'stage' | 'tasks'>,
  now = Date.now(),
): number | undefined {
  if (job.state !== 'running') return undefined;
  const started = firstStart(job);
  const progress = jobProgress(job);
  if (started === undefined || progress < 0.03) return undefined;
  const elapsed = Math.max(0, now - started) / 1000;
  return Math.round((elapsed * (1 - progress)) / progress);
}

/** "42 s", "3 min 5 s", "1 h 2 min". */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)} s`;
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
