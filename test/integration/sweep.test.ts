import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJobs } from '../../pipeline/jobs/wait.js';
import type { AnyTaskHandler } from '../../pipeline/tasks/handler.js';
import { startSweep, sweepOnce, type SweepReport } from '../../pipeline/triggers/sweep.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { listKeys, startEmbeddedApp } from '../helpers/embedded-app.js';

/** Copy handlers that count how often the first task really ran. */
function countingHandlers(): { handlers: Map<string, AnyTaskHandler>; runs: () => number } {
  let runs = 0;
  const inspect = copyHandlers.get('inspect')!;
  const handlers = new Map(copyHandlers);
  handlers.set('inspect', {
    ...inspect,
    run: (params, io) => {
      runs++;
      return inspect.run(params, io);
    },
  });
  return { handlers, runs: () => runs };
}

describe('reconciliation sweep on a real S3-protocol server', () => {
  const counting = countingHandlers();
  let app: Awaited<ReturnType<typeof startEmbeddedApp>>;
  let input: string;

  beforeAll(async () => {
    // No trigger listens to the store's events here: as if every notification had been lost.
    app = await startEmbeddedApp({
      handlers: counting.handlers,
      workflows: new Map([['image', copyWorkflow]]),
    });
    input = app.config.buckets.input;
  });
  afterAll(() => app.close());

  const deps = () => ({
    store: app.store,
    orchestrator: app.orchestrator,
    inputBucket: input,
    log: app.log,
  });

  it(
    'turns uploads that produced no event into jobs, ' + 'and leaves them alone on the next pass',
    async () => {
      await app.store.putBytes(input, 'lost/a.jpg', 'hello a');
      await app.store.putBytes(input, 'lost/b c.jpg', 'hello b');
      expect((await app.jobs.list({ limit: 10 })).jobs).toHaveLength(0);

      const first = await sweepOnce(deps());
      expect(first).toEqual<SweepReport>({
        listed: 2,
        created: 2,
        existing: 0,
        adopted: 0,
        ignored: 0,
        failed: 0,
      });
      const ids = (await app.jobs.list({ limit: 10 })).jobs.map((j) => j.spec.id);
      const done = await waitForJobs(app.jobs, ids);
      expect(done.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
      const lost = done.find((j) => j.spec.source.key === 'lost/b c.jpg')!;
      expect(await listKeys(app, app.config.buckets.output, lost.spec.outputPrefix)).toContain(
        `${app.config.buckets.input}/lost/b c.jpg/image/${lost.spec.id}/manifest.json`,
      );
      expect(counting.runs()).toBe(2);

      const second = await sweepOnce(deps());
      expect(second).toEqual<SweepReport>({
        listed: 2,
        created: 0,
        existing: 2,
        adopted: 0,
        ignored: 0,
        failed: 0,
      });
      expect(counting.runs()).toBe(2);
    },
  );

  it(
    'adopts committed manifests in a process that lost ' + 'its job store, without redoing work',
    async () => {
      const other = countingHandlers();
      const fresh = await startEmbeddedApp(
        { handlers: other.handlers, workflows: new Map([['image', copyWorkflow]]) },
        {
          MEDIAFLOW_S3_ENDPOINT: app.embedded!.endpoint,
          MEDIAFLOW_INPUT_BUCKET: input,
          MEDIAFLOW_OUTPUT_BUCKET: app.config.buckets.output,
        },
      );
      try {
        const report = await sweepOnce({
          store: fresh.store,
          orchestrator: fresh.orchestrator,
          inputBucket: input,
          log: fresh.log,
        });
        expect(report).toMatchObject({ listed: 2, created: 0, adopted: 2, failed: 0 });
        const jobs = (await fresh.jobs.list({ limit: 10 })).jobs;
        expect(jobs.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
        expect(jobs.every((j) => j.outputs.length === 3)).toBe(true);
        expect(other.runs()).toBe(0);
      } finally {
        await fresh.close();
      }
    },
  );

  it('runs on a schedule and stops cleanly', async () => {
    const reports: SweepReport[] = [];
    const stop = startSweep(deps(), 50, (r) => reports.push(r));
    await app.store.putBytes(input, 'late.jpg', 'hello late');
    for (let i = 0; i < 200 && !reports.some((r) => r.created === 1); i++)
      await new Promise((r) => setTimeout(r, 25));
    await stop();
    const count = reports.length;
    expect(reports.some((r) => r.created === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(reports).toHaveLength(count);
  });
});
