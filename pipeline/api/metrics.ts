import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isFinal, JOB_STATES, type JobState } from '../jobs/job.js';
import type { JobStore } from '../jobs/store.js';
import type { ConsumerSnapshot } from '../triggers/consumer-status.js';
import { registerConsumerMetrics } from './consumer-metrics.js';

export interface MetricsSources {
  /** Jobs per state. The default is the job store's `counts()`: constant time, never a scan. */
  countJobs?: () => Promise<Partial<Record<JobState, number>>>;
  /**
   * Tasks waiting to run. The default counts queued tasks of unfinished jobs; the BullMQ runner can
   * report its queues' waiting counts.
   */
  queueDepth?: () => Promise<number>;
  /** The broker consumers' state and counts (`mediaflow serve` passes its triggers'). */
  consumers?: () => ConsumerSnapshot[];
}

/** Open jobs read per state for task counts, so a scrape stays bounded however many are open. */
const COUNT_CAP = 10_000;
const PAGE = 200;

/**
 * The API process's Prometheus metrics, in a registry of its own (so several servers in one
 * process, as in tests, never collide). Gauges are computed when scraped; task durations and the
 * realtime factor are observed from the job store's change events, which in distributed mode
 * carry every worker's updates, so one API process sees the whole cluster's tasks.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly started = new Map<string, number>();
  private readonly stopWatching: () => void;
  private readonly countJobs: () => Promise<Partial<Record<JobState, number>>>;
  private readonly jobs: JobStore;
  private readonly sources: MetricsSources;
  /** Realtime factors of the jobs this process saw succeed, for the operator view's mean. */
  private realtimeSum = 0;
  private realtimeCount = 0;

  constructor(jobs: JobStore, sources: MetricsSources = {}, now: () => number = Date.now) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'mediaflow_' });
    const countJobs = sources.countJobs ?? (() => jobs.counts());
    this.countJobs = countJobs;
    this.jobs = jobs;
    this.sources = sources;
    const queueDepth = sources.queueDepth ?? (() => defaultQueueDepth(jobs));

    new Gauge({
      name: 'mediaflow_jobs',
      help: 'Jobs by state (finished jobs until MEDIAFLOW_JOB_RETENTION_DAYS expires them).',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await countJobs();
        for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: 'mediaflow_queue_depth',
      help: 'Tasks waiting for a runner slot.',
      registers,
      async collect() {
        this.set(await queueDepth());
      },
    });
    if (sources.consumers) registerConsumerMetrics(this.registry, sources.consumers);
    const taskDuration = new Histogram({
      name: 'mediaflow_task_duration_seconds',
      help: 'Wall time of one task attempt, by task kind and how it ended.',
      labelNames: ['kind', 'state'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    const realtime = new Histogram({
      name: 'mediaflow_realtime_factor',
      help:
        'Seconds of media produced per second of wall time, per succeeded job with timed outputs ' +
        '(video, audio).',
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
      registers,
    });
    const finished = new Counter({
      name: 'mediaflow_jobs_finished_total',
      help: 'Jobs that reached a final state since this process started.',
      labelNames: ['state'],
      registers,
    });

    this.stopWatching = jobs.watch((event) => {
      if (event.type === 'task') {
        const key = `${event.jobId}/${event.taskId}`;
        if (event.status.state === 'running') {
          // Progress updates repeat 'running'; only the first marks the attempt's start.
          if (!this.started.has(key) || event.status.progress === 0) this.started.set(key, now());
          return;
        }
        const start = this.started.get(key);
        this.started.delete(key);
        // An attempt that failed and will be retried comes back as 'queued'.
        const state = event.status.state === 'queued' ? 'retried' : event.status.state;
        if (start !== undefined)
          taskDuration.observe({ kind: event.status.kind, state }, (now() - start) / 1000);
        return;
      }
      if (!isFinal(event.state)) return;
      finished.inc({ state: event.state });
      for (const key of this.started.keys())
        if (key.startsWith(`${event.jobId}/`)) this.started.delete(key);
      if (event.state !== 'succeeded') return;
      void jobs.get(event.jobId).then(
        (job) => {
          const media = Math.max(0, ...(job?.outputs ?? []).map((o) => o.durationSeconds ?? 0));
          const wall = job ? (Date.parse(job.updatedAt) - Date.parse(job.createdAt)) / 1000 : 0;
          if (media > 0 && wall > 0) {
            realtime.observe(media / wall);
            this.realtimeSum += media / wall;
            this.realtimeCount += 1;
          }
        },
        () => {},
      );
    });
  }

  /**
   * The operator view's header: jobs per state, tasks waiting and running, and the mean realtime
   * factor of the jobs that succeeded since this process started (null before the first).
   */
  async overview(): Promise<Overview> {
    const [jobs, tasks] = await Promise.all([this.countJobs(), openTasks(this.jobs)]);
    const queueDepth = this.sources.queueDepth ? await this.sources.queueDepth() : tasks.queued;
    return {
      jobs: Object.fromEntries(JOB_STATES.map((s) => [s, jobs[s] ?? 0])) as Overview['jobs'],
      queueDepth,
      runningTasks: tasks.running,
      realtimeFactor: this.realtimeCount
        ? Math.round((100 * this.realtimeSum) / this.realtimeCount) / 100
        : null,
    };
  }

  close(): void {
    this.stopWatching();
  }
}

export interface Overview {
  jobs: Record<JobState, number>;
  queueDepth: number;
  runningTasks: number;
  realtimeFactor: number | null;
}

/** Queued and running tasks of the open jobs (each state's jobs counted up to COUNT_CAP). */
async function openTasks(jobs: JobStore): Promise<{ queued: number; running: number }> {
  const counts = { queued: 0, running: 0 };
  for (const state of ['queued', 'running'] as const) {
    let cursor: string | undefined;
    let seen = 0;
    do {
      const page = await jobs.list({ state, limit: PAGE, ...(cursor ? { cursor } : {}) });
      for (const job of page.jobs)
        for (const task of Object.values(job.tasks))
          if (task.state === 'queued' || task.state === 'running') counts[task.state] += 1;
      seen += page.jobs.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor && seen < COUNT_CAP);
  }
  return counts;
}

async function defaultQueueDepth(jobs: JobStore): Promise<number> {
  return (await openTasks(jobs)).queued;
}
