import { isFinal, type JobRecord } from '../jobs/job.js';
import type { JobStore } from '../jobs/store.js';
import type { RunnerHooks } from '../runner/port.js';
import { endKind, jobCloudEvent } from './cloudevents.js';
import type { WebhookSender } from './webhook.js';

export interface JobNotifierOptions {
  urls: readonly string[];
  sender: WebhookSender;
  jobs: JobStore;
  /** The CloudEvents `source` of every event. */
  source?: string;
  /** Least time between two `job.progress` events of one job from one process. */
  progressIntervalMs?: number;
  log: { warn(o: object, m?: string): void };
}

/**
 * Announces jobs as CloudEvents to the configured webhooks: `job.completed` / `job.failed` from
 * whichever process ends the job (the orchestrator's `onJobEnded`), and `job.progress` from the
 * processes running its tasks, at most every `progressIntervalMs` per job. Deliveries run in the
 * background: a slow or dead receiver never holds up or fails a job. Progress events are advisory:
 * several workers on one job may each send them, so receivers should keep the highest.
 */
export class JobNotifier {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly progress = new Map<
    string,
    { last: number; timer: NodeJS.Timeout | undefined }
  >();
  private readonly stop = new AbortController();
  private readonly source: string;
  private readonly intervalMs: number;

  constructor(private readonly options: JobNotifierOptions) {
    this.source = options.source ?? '/mediaflow/jobs';
    this.intervalMs = options.progressIntervalMs ?? 2000;
  }

  /** For the orchestrator's `onJobEnded`: returns at once, delivery continues in the background. */
  jobEnded(job: JobRecord): void {
    const entry = this.progress.get(job.spec.id);
    if (entry?.timer) clearTimeout(entry.timer);
    this.progress.delete(job.spec.id);
    this.send(job, endKind(job.state));
  }

  /** Runner hooks that also announce progress when a task moves. */
  wrapHooks(hooks: RunnerHooks): RunnerHooks {
    return {
      ...hooks,
      taskChanged: async (jobId, taskId, status) => {
        await hooks.taskChanged(jobId, taskId, status);
        this.progressed(jobId);
      },
      taskProgress: async (jobId, taskId, fraction) => {
        await hooks.taskProgress(jobId, taskId, fraction);
        this.progressed(jobId);
      },
    };
  }

  /** Waits for deliveries in flight, at most `timeoutMs`, then abandons the rest. */
  async flush(timeoutMs: number): Promise<void> {
    for (const { timer } of this.progress.values()) if (timer) clearTimeout(timer);
    this.progress.clear();
    const timer = setTimeout(() => this.stop.abort(), timeoutMs);
    await Promise.allSettled([...this.pending]);
    clearTimeout(timer);
  }

  private progressed(jobId: string): void {
    const entry = this.progress.get(jobId) ?? { last: 0, timer: undefined };
    this.progress.set(jobId, entry);
    if (entry.timer) return;
    const wait = entry.last + this.intervalMs - Date.now();
    const fire = () => {
      entry.timer = undefined;
      entry.last = Date.now();
      this.track(
        this.options.jobs.get(jobId).then((job) => {
          if (job && !isFinal(job.state)) this.send(job, 'progress');
        }),
      );
    };
    if (wait <= 0) fire();
    else entry.timer = setTimeout(fire, wait);
  }

  private send(job: JobRecord, kind: 'progress' | 'completed' | 'failed'): void {
    const event = jobCloudEvent(job, kind, { source: this.source });
    for (const url of this.options.urls)
      this.track(this.options.sender.deliver(url, event, this.stop.signal));
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) =>
      this.options.log.warn({ err: (error as Error).message }, 'job notification failed'),
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}
