import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../pipeline/app.js';
import { MemoryJobStore } from '../../pipeline/jobs/memory-store.js';
import type { TaskResult } from '../../pipeline/plan/types.js';
import { waitForJobs } from '../../pipeline/jobs/wait.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { listKeys, startEmbeddedApp } from '../helpers/embedded-app.js';

/**
 * A job store that can hold the orchestrator inside `advance` (while it reads results), to open a
 * race window on purpose.
 */
class GatedStore extends MemoryJobStore {
  gate: { after: string; open: Promise<void>; reached: () => void } | undefined;
  override async getResults(id: string): Promise<Record<string, TaskResult>> {
    const results = await super.getResults(id);
    const gate = this.gate;
    if (gate && results[gate.after]) {
      this.gate = undefined;
      gate.reached();
      await gate.open;
    }
    return results;
  }
}

describe('orchestrator races: a cancel arriving while a stage completes', () => {
  let app: App & { dataDir: string };
  const jobs = new GatedStore();
  beforeAll(async () => {
    app = await startEmbeddedApp({
      jobs,
      handlers: copyHandlers,
      workflows: new Map([['image', copyWorkflow]]),
    });
  });
  afterAll(() => app.close());

  /**
   * Submits a job, holds it right after the stage ending with `after` completed, cancels it there,
   * then lets it go on.
   */
  const cancelInWindow = async (key: string, after: string) => {
    const { input } = app.config.buckets;
    let release!: () => void;
    let reached!: () => void;
    const atGate = new Promise<void>((r) => (reached = r));
    jobs.gate = { after, open: new Promise<void>((r) => (release = r)), reached };
    await app.store.putBytes(input, key, 'hello');
    const outcome = (await app.orchestrator.submit({ bucket: input, key })) as { jobId: string };
    await atGate;
    const cancelled = await app.orchestrator.cancel(outcome.jobId);
    release();
    const [job] = await waitForJobs(app.jobs, [outcome.jobId]);
    await new Promise((r) => setTimeout(r, 300));
    return {
      cancelled,
      job: (await app.jobs.get(job!.spec.id))!,
      ran: Object.values((await app.jobs.get(job!.spec.id))!.tasks).map((t) => t.state),
    };
  };

  it('at the last stage: the job stays cancelled and no manifest or output survives', async () => {
    const { cancelled, job } = await cancelInWindow('race-last.jpg', 'part-2');
    expect(cancelled.state).toBe('cancelled');
    expect(job.state).toBe('cancelled');
    expect(job.outputs).toEqual([]);
    expect(job.error?.code).toBe('CANCELLED');
    expect(
      await listKeys(app, app.config.buckets.output, `${app.config.buckets.input}/race-last.jpg/`),
    ).toEqual([]);
    // A later event for the same object must not adopt a stray manifest as work done.
    expect(
      await app.orchestrator.submit({ bucket: app.config.buckets.input, key: 'race-last.jpg' }),
    ).toMatchObject({ status: 'existing', state: 'cancelled' });
  });

  it(
    'at a middle stage: no further stage starts, and ' + 'the job ends cancelled, not failed',
    async () => {
      const { job, ran } = await cancelInWindow('race-middle.jpg', 'inspect');
      expect(job.state).toBe('cancelled');
      expect(job.error?.code).toBe('CANCELLED');
      expect(ran).toEqual(['succeeded']);
      expect(
        await listKeys(
          app,
          app.config.buckets.output,
          `${app.config.buckets.input}/race-middle.jpg/`,
        ),
      ).toEqual([]);
    },
  );
});
