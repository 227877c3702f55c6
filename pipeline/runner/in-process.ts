import PQueue from 'p-queue';
import { setTimeout as sleep } from 'node:timers/promises';
import { toErrorRecord, type ErrorRecord } from '../../functions/errors.js';
import type { TaskResult, TaskSpec } from '../plan/types.js';
import {
  backoffDelay,
  OUTAGE_CODES,
  outageDelay,
  type RetryPolicy,
  type Runner,
  type RunningTask,
  type RunnerHooks,
  type StageRequest,
  type StageStatus,
} from './port.js';

/**
 * Runs every stage in this process with p-queue: the embedded mode's runner, and the fallback
 * when there is no Redis. Concurrency bounds parallel tasks (each usually one ffmpeg or sharp
 * pipeline), so the default is the number of cores.
 */
export class InProcessRunner implements Runner {
  private readonly queue: PQueue;
  private readonly jobs = new Map<string, AbortController>();
  /** Stages already started, so a replayed stage runs once (as BullMQ's job ids ensure there). */
  private readonly started = new Set<string>();
  private readonly running = new Set<RunningTask>();
  private readonly retry: RetryPolicy;
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly hooks: RunnerHooks,
    options: { concurrency: number; retry: RetryPolicy; onError?: (error: unknown) => void },
  ) {
    this.queue = new PQueue({ concurrency: options.concurrency });
    this.retry = options.retry;
    this.onError = options.onError ?? ((error) => console.error(error));
  }

  async runStage(request: StageRequest): Promise<void> {
    const stageKey = `${request.jobId}:${request.stage}`;
    if (this.started.has(stageKey)) return;
    this.started.add(stageKey);
    const controller = this.controllerFor(request.jobId);
    void this.runTasks(request, controller).catch(this.onError);
  }

  async stageStatus(jobId: string, stage: number): Promise<StageStatus> {
    return this.started.has(`${jobId}:${stage}`) ? 'live' : 'missing';
  }

  async cancel(jobId: string): Promise<void> {
    this.jobs.get(jobId)?.abort();
    this.jobs.delete(jobId);
    for (const key of this.started) if (key.startsWith(`${jobId}:`)) this.started.delete(key);
  }

  async close(): Promise<void> {
    for (const controller of this.jobs.values()) controller.abort();
    this.queue.clear();
    await this.queue.onIdle();
  }

  runningTasks(): RunningTask[] {
    return [...this.running];
  }

  /** Resolves when no task is queued or running. */
  onIdle(): Promise<void> {
    return this.queue.onIdle();
  }

  private controllerFor(jobId: string): AbortController {
    let controller = this.jobs.get(jobId);
    if (!controller || controller.signal.aborted) {
      controller = new AbortController();
      this.jobs.set(jobId, controller);
    }
    return controller;
  }

  private async runTasks(
    { jobId, stage, tasks }: StageRequest,
    controller: AbortController,
  ): Promise<void> {
    // A stage fails on its first final failure; siblings are stopped so no work is wasted.
    const stageController = new AbortController();
    const signal = AbortSignal.any([controller.signal, stageController.signal]);
    let failure: { taskId: string; error: ErrorRecord } | undefined;
    const results: Record<string, TaskResult> = {};
    await Promise.all(
      tasks.map((task) =>
        this.queue.add(async () => {
          if (signal.aborted) return;
          const running = { jobId, taskId: task.id, startedAt: new Date().toISOString() };
          this.running.add(running);
          try {
            results[task.id] = await this.runWithRetries(jobId, stage, task, signal);
          } catch (error) {
            const record =
              signal.aborted && !failure
                ? {
                    code: 'CANCELLED' as const,
                    message: 'The job was cancelled.',
                    retryable: false,
                  }
                : toErrorRecord(error);
            if (!failure) failure = { taskId: task.id, error: record };
            stageController.abort();
          } finally {
            this.running.delete(running);
          }
        }),
      ),
    );
    // A cancelled job is compensated by whoever cancelled it.
    if (controller.signal.aborted) return;
    // Forget the finished stage before the hooks plan the next one (which gets a fresh
    // controller), so a long-running process does not keep every job it ever ran.
    this.started.delete(`${jobId}:${stage}`);
    if (this.jobs.get(jobId) === controller) this.jobs.delete(jobId);
    if (failure) await this.hooks.stageFailed(jobId, stage, failure.taskId, failure.error);
    else await this.hooks.stageDone(jobId, stage, results);
  }

  private async runWithRetries(
    jobId: string,
    stage: number,
    task: TaskSpec,
    signal: AbortSignal,
  ): Promise<TaskResult> {
    let outage: { since: number; tries: number } | undefined;
    for (let attempt = 1; ; attempt++) {
      await this.hooks.taskChanged(jobId, task.id, {
        kind: task.kind,
        stage,
        state: 'running',
        progress: 0,
        attempts: attempt,
        startedAt: new Date().toISOString(),
      });
      try {
        const result = await this.hooks.execute(jobId, task, signal, (fraction) => {
          void this.hooks.taskProgress(jobId, task.id, fraction).catch(this.onError);
        });
        await this.hooks.taskChanged(jobId, task.id, {
          kind: task.kind,
          stage,
          state: 'succeeded',
          progress: 1,
          attempts: attempt,
          endedAt: new Date().toISOString(),
        });
        return result;
      } catch (error) {
        const record = toErrorRecord(error);
        if (!signal.aborted && OUTAGE_CODES.has(record.code)) {
          outage ??= { since: Date.now(), tries: 0 };
          if (Date.now() - outage.since < (this.retry.outageBudgetMs ?? 0)) {
            // Storage is away: try again later without spending an attempt.
            outage.tries++;
            attempt--;
            await sleep(outageDelay(this.retry, outage.tries), undefined, { signal }).catch(
              () => {},
            );
            continue;
          }
        }
        const final = signal.aborted || !record.retryable || attempt >= this.retry.attempts;
        const state = signal.aborted ? 'cancelled' : final ? 'failed' : 'queued';
        await this.hooks.taskChanged(jobId, task.id, {
          kind: task.kind,
          stage,
          state,
          progress: 0,
          attempts: attempt,
          error: record,
          ...(state === 'queued' ? {} : { endedAt: new Date().toISOString() }),
        });
        if (final) throw error;
        await sleep(backoffDelay(this.retry, attempt), undefined, { signal }).catch(() => {});
      }
    }
  }
}
