import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobView } from '../../pipeline/api/job-view.js';
import type { App } from '../../pipeline/app.js';
import type { TaskStatus } from '../../pipeline/jobs/job.js';
import { MemoryJobStore } from '../../pipeline/jobs/memory-store.js';
import { waitForJobs } from '../../pipeline/jobs/wait.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';

/**
 * A job store that loses one task's final status write, as when a worker records the task's
 * result and is killed before it records the task as succeeded.
 */
class LossyStore extends MemoryJobStore {
  lost = false;
  override async setTask(id: string, taskId: string, status: TaskStatus): Promise<void> {
    if (!this.lost && taskId === 'part-1' && status.state === 'succeeded') {
      this.lost = true;
      return;
    }
    await super.setTask(id, taskId, status);
  }
}

describe('a task whose end was never written, in a job that succeeded', () => {
  let app: App & { dataDir: string };
  const jobs = new LossyStore();
  beforeAll(async () => {
    app = await startEmbeddedApp({
      jobs,
      handlers: copyHandlers,
      workflows: new Map([['image', copyWorkflow]]),
    });
  });
  afterAll(() => app.close());

  it('is recorded succeeded with the job, not left running', async () => {
    const { input } = app.config.buckets;
    await app.store.putBytes(input, 'lost-end.jpg', 'hello');
    const outcome = (await app.orchestrator.submit({ bucket: input, key: 'lost-end.jpg' })) as {
      jobId: string;
    };
    const [job] = await waitForJobs(app.jobs, [outcome.jobId]);
    expect(job!.state).toBe('succeeded');
    expect(jobs.lost).toBe(true);
    const stored = (await app.jobs.get(job!.spec.id))!;
    const part1 = stored.tasks['part-1']!;
    expect(part1).toMatchObject({ state: 'succeeded', progress: 1 });
    expect(part1.endedAt).toBeDefined();
    expect(Object.values(stored.tasks).map((t) => t.state)).toEqual(
      Object.values(stored.tasks).map(() => 'succeeded'),
    );
    expect(jobView(stored).tasks.every((t) => t.state === 'succeeded')).toBe(true);
  });
});
