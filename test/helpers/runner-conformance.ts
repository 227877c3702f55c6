import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaflowError, type ErrorRecord } from '../../functions/errors.js';
import type { TaskStatus } from '../../pipeline/jobs/job.js';
import type { TaskResult, TaskSpec } from '../../pipeline/plan/types.js';
import type { Runner, RunnerHooks } from '../../pipeline/runner/port.js';

type Execute = RunnerHooks['execute'];

/** Records what a runner called back, so tests can wait for and inspect it. */
class Recorder {
  readonly done: { jobId: string; stage: number; results: Record<string, TaskResult> }[] = [];
  readonly failed: { jobId: string; stage: number; taskId: string; error: ErrorRecord }[] = [];
  readonly changes: { jobId: string; taskId: string; status: TaskStatus }[] = [];
  readonly progress: number[] = [];
  execute: Execute = async () => ({});

  hooks(): RunnerHooks {
    return {
      execute: (...args) => this.execute(...args),
      taskChanged: async (jobId, taskId, status) =>
        void this.changes.push({ jobId, taskId, status }),
      taskProgress: async (_jobId, _taskId, fraction) => void this.progress.push(fraction),
      stageDone: async (jobId, stage, results) => void this.done.push({ jobId, stage, results }),
      stageFailed: async (jobId, stage, taskId, error) =>
        void this.failed.push({ jobId, stage, taskId, error }),
    };
  }

  async until(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the runner');
      await sleep(20);
    }
  }

  attempts(jobId: string, taskId: string): number {
    return Math.max(
      0,
      ...this.changes
        .filter((c) => c.jobId === jobId && c.taskId === taskId)
        .map((c) => c.status.attempts),
    );
  }
}

const tasks = (n: number, kind = 'noop'): TaskSpec[] =>
  Array.from({ length: n }, (_, i) => ({ id: `t${i}`, kind, params: { i } }));
let seq = 0;
const newJobId = () => `job-${process.pid}-${Date.now()}-${seq++}`;

/**
 * The runner port's conformance suite: the in-process runner and the BullMQ runner must pass it
 * unchanged. `open` builds a runner for the hooks (with retry backoff of a few ms).
 */
export function runnerConformance(
  name: string,
  open: (hooks: RunnerHooks) => Promise<Runner>,
): void {
  describe(`Runner conformance: ${name}`, () => {
    let runner: Runner | undefined;
    afterEach(async () => {
      await runner?.close();
      runner = undefined;
    });

    it('runs a stage in parallel and joins it once with every result', async () => {
      const rec = new Recorder();
      let running = 0;
      let peak = 0;
      rec.execute = async (_jobId, task, _signal, onProgress) => {
        running++;
        peak = Math.max(peak, running);
        onProgress(0.5);
        await sleep(150);
        running--;
        return { echo: task.params['i'] };
      };
      runner = await open(rec.hooks());
      const jobId = newJobId();
      await runner.runStage({ jobId, stage: 1, tasks: tasks(4) });
      await rec.until(() => rec.done.length > 0);
      await sleep(200);
      expect(rec.done).toHaveLength(1);
      expect(rec.done[0]!.results).toEqual({
        t0: { echo: 0 },
        t1: { echo: 1 },
        t2: { echo: 2 },
        t3: { echo: 3 },
      });
      expect(peak).toBeGreaterThan(1);
      expect(rec.failed).toHaveLength(0);
      expect(rec.changes.filter((c) => c.status.state === 'succeeded')).toHaveLength(4);
    });

    it('runs a replayed stage only once', async () => {
      const rec = new Recorder();
      let calls = 0;
      rec.execute = async () => {
        calls++;
        await sleep(50);
        return {};
      };
      runner = await open(rec.hooks());
      const jobId = newJobId();
      await runner.runStage({ jobId, stage: 1, tasks: tasks(2) });
      await runner.runStage({ jobId, stage: 1, tasks: tasks(2) });
      await rec.until(() => rec.done.length > 0);
      await sleep(300);
      expect(calls).toBe(2);
      expect(rec.done).toHaveLength(1);
    });

    it('tells a live stage from a missing one, for recovery', async () => {
      const rec = new Recorder();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      rec.execute = async () => {
        await gate;
        return {};
      };
      runner = await open(rec.hooks());
      const jobId = newJobId();
      expect(await runner.stageStatus(jobId, 1)).toBe('missing');
      await runner.runStage({ jobId, stage: 1, tasks: tasks(2) });
      expect(await runner.stageStatus(jobId, 1)).toBe('live');
      expect(await runner.stageStatus(jobId, 2)).toBe('missing');
      release();
      // Reported: nothing of it is left to wait for.
      await rec.until(() => rec.done.length > 0);
      for (let i = 0; i < 50 && (await runner.stageStatus(jobId, 1)) !== 'missing'; i++)
        await sleep(20);
      expect(await runner.stageStatus(jobId, 1)).toBe('missing');
    });

    it('retries a retryable error and then succeeds', async () => {
      const rec = new Recorder();
      let tries = 0;
      rec.execute = async () => {
        if (++tries < 3) throw new MediaflowError('STORAGE_UNAVAILABLE', 'blip');
        return { ok: true };
      };
      runner = await open(rec.hooks());
      const jobId = newJobId();
      await runner.runStage({ jobId, stage: 1, tasks: tasks(1) });
      await rec.until(() => rec.done.length > 0);
      expect(rec.done[0]!.results).toEqual({ t0: { ok: true } });
      expect(tries).toBe(3);
      expect(rec.attempts(jobId, 't0')).toBe(3);
    });

    it('fails a permanent error at once, without spending retries', async () => {
      const rec = new Recorder();
      let tries = 0;
      rec.execute = async (_j, task) => {
        if (task.id === 't1') {
          tries++;
          throw new MediaflowError('MEDIA_UNREADABLE', 'not a video', {
            stderrTail: 'Invalid data found',
          });
        }
        return {};
      };
      runner = await open(rec.hooks());
      const jobId = newJobId();
      await runner.runStage({ jobId, stage: 1, tasks: tasks(2) });
      await rec.until(() => rec.failed.length > 0);
      await sleep(300);
      expect(tries).toBe(1);
      expect(rec.failed).toHaveLength(1);
      expect(rec.failed[0]).toMatchObject({
        jobId,
        stage: 1,
        taskId: 't1',
        error: { code: 'MEDIA_UNREADABLE', retryable: false, stderrTail: 'Invalid data found' },
      });
      expect(rec.done).toHaveLength(0);
    });

    it('fails the stage once retries of a transient error are spent', async () => {
      const rec = new Recorder();
      let tries = 0;
      rec.execute = async () => {
        tries++;
        throw new MediaflowError('STORAGE_UNAVAILABLE', 'down');
      };
      runner = await open(rec.hooks());
      const jobId = newJobId();
      await runner.runStage({ jobId, stage: 1, tasks: tasks(1) });
      await rec.until(() => rec.failed.length > 0);
      expect(tries).toBe(3);
      expect(rec.failed[0]!.error.code).toBe('STORAGE_UNAVAILABLE');
    });

    it('cancels: running tasks see their signal abort and the stage never completes', async () => {
      const rec = new Recorder();
      let aborted = 0;
      let started = 0;
      rec.execute = (_j, _t, signal) =>
        new Promise((_resolve, reject) => {
          started++;
          signal.addEventListener('abort', () => {
            aborted++;
            reject(new MediaflowError('CANCELLED', 'cancelled'));
          });
        });
      runner = await open(rec.hooks());
      const jobId = newJobId();
      await runner.runStage({ jobId, stage: 1, tasks: tasks(2) });
      await rec.until(() => started === 2);
      await runner.cancel(jobId);
      await rec.until(() => aborted === 2);
      await sleep(300);
      expect(rec.done).toHaveLength(0);
      expect(rec.failed).toHaveLength(0);
    });
  });
}
