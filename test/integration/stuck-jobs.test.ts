import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MediaflowError } from '../../functions/errors.js';
import type { App } from '../../pipeline/app.js';
import { RedisJobStore } from '../../pipeline/jobs/redis-store.js';
import { isFinal, type JobRecord } from '../../pipeline/jobs/job.js';
import { scratchRoot } from '../../pipeline/jobs/output-layout.js';
import { sweepScratch } from '../../pipeline/jobs/scratch-sweep.js';
import { watchdogPass } from '../../pipeline/jobs/watchdog.js';
import { BullmqRunner } from '../../pipeline/runner/bullmq.js';
import type { Runner, StageRequest } from '../../pipeline/runner/port.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { listKeys, startEmbeddedApp } from '../helpers/embedded-app.js';
import { dropQueuePrefix } from '../helpers/redis-server.js';

/**
 * The BullMQ runner with a Redis blip on demand: the next enqueue of a chosen stage number throws,
 * as `FlowProducer.add` does when its connection drops (the producer does not queue commands
 * while Redis is away). Everything else is the real runner on real Redis.
 */
class BlippingRunner implements Runner {
  readonly failNext = new Set<number>();
  constructor(readonly inner: BullmqRunner) {}
  async runStage(request: StageRequest): Promise<void> {
    if (this.failNext.delete(request.stage))
      throw new MediaflowError('QUEUE_UNAVAILABLE', 'Redis is unavailable: injected blip');
    return this.inner.runStage(request);
  }
  stageStatus(jobId: string, stage: number) {
    return this.inner.stageStatus(jobId, stage);
  }
  cancel(jobId: string) {
    return this.inner.cancel(jobId);
  }
  runningTasks() {
    return this.inner.runningTasks();
  }
  close() {
    return this.inner.close();
  }
}

/**
 * Issue 11, case 1: a job whose enqueue failed once must not stay open forever. These run the real
 * orchestrator, the real Redis job store and the real BullMQ runner (consuming in this process)
 * against a real S3-protocol server, with the copy workflow (inspect, then three parts).
 */
describe('stuck jobs: a lost enqueue is recovered', () => {
  const redisUrl = inject('redisUrl');
  const prefix = `mfs-${crypto.randomBytes(4).toString('hex')}`;
  let app: App & { dataDir: string };
  let runner!: BlippingRunner;
  /** Polls (pub/sub would do, but a stuck job must fail the test by time, not hang it). */
  const finished = async (jobId: string, timeoutMs = 15_000): Promise<JobRecord> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await app.jobs.get(jobId);
      if (job && isFinal(job.state)) return job;
      if (Date.now() > deadline)
        throw new Error(`job ${jobId} still ${job?.state} at stage ${job?.stage}: stuck`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    app = await startEmbeddedApp({
      jobs: new RedisJobStore(redisUrl, `${prefix}:`),
      handlers: copyHandlers,
      workflows: new Map([['image', copyWorkflow]]),
      runner: (hooks) =>
        (runner = new BlippingRunner(
          new BullmqRunner(hooks, {
            redisUrl,
            queuePrefix: prefix,
            retry: { attempts: 3, backoffMs: 20, outageBudgetMs: 60_000 },
            consume: { concurrency: 2 },
            onError: () => {},
          }),
        )),
    });
    await runner.inner.start();
  });
  afterAll(async () => {
    await app.close();
    await dropQueuePrefix(redisUrl, prefix);
  });

  const upload = async (key: string, body = 'hello') => {
    await app.store.putBytes(app.config.buckets.input, key, body);
    return { bucket: app.config.buckets.input, key };
  };

  it('(a) the first enqueue fails: the redelivered event starts the job', async () => {
    const source = await upload('a-first-enqueue.jpg');
    runner.failNext.add(1);
    // The webhook answers 503 for this, and the store redelivers the event.
    await expect(app.orchestrator.submit(source)).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
    });
    const again = await app.orchestrator.submit(source);
    expect(again).toMatchObject({ status: 'existing' });
    const jobId = (again as { jobId: string }).jobId;
    const job = await finished(jobId);
    expect(job).toMatchObject({ state: 'succeeded' });
    expect(job.outputs.map((o) => o.key.split('/').pop()).sort()).toEqual([
      'part-0.txt',
      'part-1.txt',
      'part-2.txt',
    ]);
  });

  it('(b) the next stage fails to enqueue: the replayed stage re-drives it', async () => {
    const source = await upload('b-next-stage.jpg');
    // Stage 1 (inspect) enqueues; stage 2 (the parts) fails once, inside stage 1's completion,
    // after the job record already says stage 2. BullMQ retries stage 1's completion.
    runner.failNext.add(2);
    const outcome = (await app.orchestrator.submit(source)) as { jobId: string };
    const job = await finished(outcome.jobId);
    expect(job).toMatchObject({ state: 'succeeded', stage: 2 });
    expect(runner.failNext.size).toBe(0);
  });

  it('the watchdog re-drives an open job that nothing will redeliver', async () => {
    const source = await upload('c-watchdog.jpg');
    runner.failNext.add(1);
    await expect(app.orchestrator.submit(source)).rejects.toThrow(/injected blip/);
    const [open] = (await app.jobs.list({ limit: 50 })).jobs.filter(
      (j) => j.spec.source.key === source.key,
    );
    // The record says stage 1 is queued, but nothing was enqueued.
    expect(open).toMatchObject({ state: 'running', stage: 1 });
    expect(await runner.stageStatus(open!.spec.id, 1)).toBe('missing');
    // Within the grace period it is left alone.
    const early = await watchdogPass(app, { graceMs: 60_000 });
    expect(early).toEqual({});
    const counts = await watchdogPass(app, { graceMs: 0 });
    expect(counts.redriven).toBeGreaterThanOrEqual(1);
    const job = await finished(open!.spec.id);
    expect(job?.state).toBe('succeeded');
    // A finished job leaves the watchdog's index.
    expect(await app.jobs.idle(Date.now() + 1, 1000)).not.toContain(open!.spec.id);
  });

  it('the watchdog leaves a running stage alone', async () => {
    const source = await upload('d-slow.jpg', 'SLOW 1500');
    const { jobId } = (await app.orchestrator.submit(source)) as { jobId: string };
    await new Promise((r) => setTimeout(r, 300));
    expect(await app.orchestrator.recover(jobId)).toBe('live');
    const job = await finished(jobId);
    expect(job?.state).toBe('succeeded');
  });

  it('the watchdog finishes a failure whose compensation never ended', async () => {
    const source = await upload('e-claimed.jpg', 'SLOW 400');
    const { jobId } = (await app.orchestrator.submit(source)) as { jobId: string };
    await finished(jobId);
    // As if a process claimed the end of a job (recorded its error) and died before compensating.
    const another = await upload('e-claimed-2.jpg', 'SLOW 5000');
    const { jobId: id2 } = (await app.orchestrator.submit(another)) as { jobId: string };
    for (let i = 0; i < 100 && !(await app.jobs.get(id2))?.tasks['part-0']; i++)
      await new Promise((r) => setTimeout(r, 50));
    const error = { code: 'MEDIA_UNREADABLE' as const, message: 'bad', retryable: false };
    expect(await app.jobs.setState(id2, { error }, 'open')).toBe(true);
    expect(await app.orchestrator.recover(id2)).toBe('compensated');
    const job = await app.jobs.get(id2);
    expect(job).toMatchObject({ state: 'failed', error: { code: 'MEDIA_UNREADABLE' } });
    expect(
      await listKeys(app, app.config.buckets.output, `${another.bucket}/${another.key}/`),
    ).toEqual([]);
  });

  it('a compensation that fails in a storage outage is retried by the watchdog', async () => {
    const source = await upload('f-outage.jpg', 'FAIL');
    const store = app.store as { delete: typeof app.store.delete };
    const realDelete = store.delete.bind(app.store);
    // The outage: deletes fail while it lasts.
    store.delete = async () => {
      throw new MediaflowError('STORAGE_UNAVAILABLE', 'injected outage');
    };
    try {
      const { jobId } = (await app.orchestrator.submit(source)) as { jobId: string };
      for (let i = 0; i < 200 && !(await app.jobs.get(jobId))?.error; i++)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      const claimed = (await app.jobs.get(jobId))!;
      // Not ended: whoever sees an ended job must see a clean bucket.
      expect(claimed).toMatchObject({ state: 'running', error: { code: 'MEDIA_UNREADABLE' } });
      expect(await listKeys(app, app.config.buckets.output, claimed.spec.outputPrefix)).not.toEqual(
        [],
      );
      store.delete = realDelete;
      expect(await watchdogPass(app, { graceMs: 0 })).toMatchObject({ compensated: 1 });
      expect(await app.jobs.get(jobId)).toMatchObject({ state: 'failed' });
      expect(await listKeys(app, app.config.buckets.output, claimed.spec.outputPrefix)).toEqual([]);
      expect(await listKeys(app, app.config.buckets.output, claimed.spec.scratchPrefix)).toEqual(
        [],
      );
    } finally {
      store.delete = realDelete;
    }
  });

  it('the scratch sweep removes scratch of ended or unknown jobs only', async () => {
    const { output, outputPrefix } = app.config.buckets;
    const root = scratchRoot(outputPrefix);
    const source = await upload('g-running.jpg', 'SLOW 3000');
    const { jobId } = (await app.orchestrator.submit(source)) as { jobId: string };
    for (let i = 0; i < 100 && !(await app.jobs.get(jobId))?.tasks['part-0']; i++)
      await new Promise((r) => setTimeout(r, 50));
    const orphan = 'j000000000000000000dead00';
    await app.store.putBytes(output, `${root}${orphan}/segment-000.mp4`, 'left over');
    const cleaned = await sweepScratch({ store: app.store, jobs: app.jobs, bucket: output, root });
    expect(cleaned).toContain(orphan);
    expect(cleaned).not.toContain(jobId);
    expect(await listKeys(app, output, `${root}${orphan}/`)).toEqual([]);
    expect(await listKeys(app, output, `${root}${jobId}/`)).not.toEqual([]);
    expect((await finished(jobId)).state).toBe('succeeded');
  });

  it('an outage longer than the attempts does not fail the task, nor spend attempts', async () => {
    const source = await upload('h-outage.jpg', 'OUTAGE 5');
    const { jobId } = (await app.orchestrator.submit(source)) as { jobId: string };
    const job = await finished(jobId);
    expect(job.state).toBe('succeeded');
    expect(job.tasks['part-0']).toMatchObject({ state: 'succeeded', attempts: 1 });
  });
});
