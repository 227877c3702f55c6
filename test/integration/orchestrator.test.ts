import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../pipeline/app.js';
import { waitForJobs } from '../../pipeline/jobs/wait.js';
import { listenToEmbeddedEvents } from '../../pipeline/triggers/embedded-events.js';
import type { EventOutcome } from '../../pipeline/triggers/submit-events.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { listKeys, startEmbeddedApp } from '../helpers/embedded-app.js';

describe('orchestrator on the embedded store', () => {
  let app: App & { dataDir: string };
  let input: string;
  let output: string;
  const outcomes: EventOutcome[] = [];

  beforeAll(async () => {
    app = await startEmbeddedApp({
      handlers: copyHandlers,
      workflows: new Map([['image', copyWorkflow]]),
    });
    ({ input, output } = app.config.buckets);
    listenToEmbeddedEvents(app.embedded!, app.orchestrator, input, app.log, (o) =>
      outcomes.push(o),
    );
  });
  afterAll(() => app.close());

  const eventFor = async (key: string) => {
    for (let i = 0; i < 200; i++) {
      const found = outcomes.find((o) => o.event.type === 'created' && o.event.key === key);
      if (found) return found.outcome;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no event for ${key}`);
  };

  it(
    'turns an upload event into a job whose outputs and manifest land in its own folder ' +
      'under the bucket, key and preset, with current.json pointing at it',
    async () => {
      await app.store.putBytes(input, 'photos/cat one.jpg', 'hello');
      const outcome = await eventFor('photos/cat one.jpg');
      expect(outcome.status).toBe('created');
      const [job] = await waitForJobs(app.jobs, [(outcome as { jobId: string }).jobId]);
      expect(job!.state).toBe('succeeded');
      const base = `${input}/photos/cat one.jpg/image/`;
      const own = `${base}${job!.spec.id}/`;
      expect(job!.spec.outputPrefix).toBe(own);
      expect(job!.outputs.map((o) => o.key)).toEqual([
        `${own}part-0.txt`,
        `${own}part-1.txt`,
        `${own}part-2.txt`,
      ]);
      const manifest = JSON.parse(
        (await app.store.getBytes(output, `${own}manifest.json`)).toString(),
      );
      expect(
        JSON.parse((await app.store.getBytes(output, `${base}current.json`)).toString()),
      ).toMatchObject({ jobId: job!.spec.id, manifestKey: `${own}manifest.json` });
      expect(manifest).toMatchObject({
        jobId: job!.spec.id,
        preset: 'image',
        outputs: job!.outputs,
      });
      expect(manifest.outputs[0].sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(await listKeys(app, output, '.mediaflow-scratch/')).toEqual([]);
      // Events for mediaflow's own outputs, and console folder markers, never trigger jobs.
      expect(await app.orchestrator.submit({ bucket: input, key: 'photos/' })).toEqual({
        status: 'ignored',
        reason: 'folder-marker',
      });
      expect(
        outcomes
          .filter((o) => o.event.type === 'created' && o.event.bucket === output)
          .every((o) => o.outcome.status === 'ignored'),
      ).toBe(true);
    },
  );

  it(
    'gives duplicate and concurrent submissions one job, and a new version a new job ' +
      'in its own folder, leaving the old one intact',
    async () => {
      await app.store.putBytes(input, 'dup.jpg', 'v1');
      const first = await eventFor('dup.jpg');
      const again = await Promise.all(
        [1, 2, 3].map(() => app.orchestrator.submit({ bucket: input, key: 'dup.jpg' })),
      );
      const ids = new Set([first, ...again].map((o) => (o as { jobId: string }).jobId));
      expect(ids.size).toBe(1);
      expect(again.every((o) => o.status === 'existing')).toBe(true);
      const oldEtag = (await app.store.head(input, 'dup.jpg'))!.etag;
      await waitForJobs(app.jobs, [...ids]);

      await app.store.putBytes(input, 'dup.jpg', 'v2');
      const stale = await app.orchestrator.submit({ bucket: input, key: 'dup.jpg', etag: oldEtag });
      expect(stale).toEqual({ status: 'ignored', reason: 'stale' });
      const newer = await app.orchestrator.submit({ bucket: input, key: 'dup.jpg' });
      expect((newer as { jobId: string }).jobId).not.toBe([...ids][0]);
      await waitForJobs(app.jobs, [(newer as { jobId: string }).jobId]);
      const [v1, v2] = [
        (await app.jobs.get([...ids][0]!))!,
        (await app.jobs.get((newer as { jobId: string }).jobId))!,
      ];
      const part0 = async (prefix: string) =>
        (await app.store.getBytes(output, `${prefix}part-0.txt`)).toString();
      expect(await part0(v2.spec.outputPrefix)).toBe('0:v2');
      expect(await part0(v1.spec.outputPrefix)).toBe('0:v1');
      const current = await app.store.getBytes(output, `${input}/dup.jpg/image/current.json`);
      expect(JSON.parse(current.toString())).toMatchObject({ jobId: v2.spec.id });
    },
  );

  it('waits out a storage outage longer than its attempts without spending them', async () => {
    await app.store.putBytes(input, 'outage.jpg', 'OUTAGE 5');
    const outcome = await eventFor('outage.jpg');
    const [job] = await waitForJobs(app.jobs, [(outcome as { jobId: string }).jobId]);
    expect(job!.state).toBe('succeeded');
    expect(job!.tasks['part-0']!.attempts).toBe(1);
  });

  it('retries a transient failure and still succeeds', async () => {
    await app.store.putBytes(input, 'flaky.jpg', 'FLAKY');
    const outcome = await eventFor('flaky.jpg');
    const [job] = await waitForJobs(app.jobs, [(outcome as { jobId: string }).jobId]);
    expect(job!.state).toBe('succeeded');
    expect(job!.tasks['part-0']!.attempts).toBe(2);
  });

  it(
    'compensates a permanent failure: the error is ' + 'recorded and nothing is left behind',
    async () => {
      await app.store.putBytes(input, 'bad.jpg', 'FAIL');
      const outcome = await eventFor('bad.jpg');
      const [job] = await waitForJobs(app.jobs, [(outcome as { jobId: string }).jobId]);
      expect(job!.state).toBe('failed');
      expect(job!.error).toMatchObject({ code: 'MEDIA_UNREADABLE', retryable: false });
      expect(job!.tasks['part-1']).toMatchObject({ state: 'failed', attempts: 1 });
      expect(await listKeys(app, output, `${input}/bad.jpg/`)).toEqual([]);
      expect(await listKeys(app, output, `.mediaflow-scratch/${job!.spec.id}/`)).toEqual([]);
      expect(fs.readdirSync(app.config.scratchDir)).toEqual([]);
    },
  );

  it("compensates only what the job wrote, not other jobs' outputs under its prefix", async () => {
    // Keys may contain '/': the outputs of `nest.jpg/image/inner.jpg` live under those of
    // `nest.jpg` (`<bucket>/nest.jpg/image/`).
    await app.store.putBytes(input, 'nest.jpg/image/inner.jpg', 'inner');
    const inner = (await eventFor('nest.jpg/image/inner.jpg')) as { jobId: string };
    await waitForJobs(app.jobs, [inner.jobId]);
    await app.store.putBytes(input, 'nest.jpg', 'FAIL');
    const outer = (await eventFor('nest.jpg')) as { jobId: string };
    const [failed] = await waitForJobs(app.jobs, [outer.jobId]);
    expect(failed!.state).toBe('failed');
    const innerBase = `${input}/nest.jpg/image/inner.jpg/image/`;
    const innerOwn = `${innerBase}${inner.jobId}/`;
    expect(await listKeys(app, output, `${input}/nest.jpg/`)).toEqual([
      `${innerBase}current.json`,
      `${innerOwn}manifest.json`,
      `${innerOwn}part-0.txt`,
      `${innerOwn}part-1.txt`,
      `${innerOwn}part-2.txt`,
    ]);
  });

  it('cancels a running job and removes what it wrote', async () => {
    await app.store.putBytes(input, 'slow.jpg', 'SLOW 5000');
    const outcome = (await eventFor('slow.jpg')) as { jobId: string };
    for (
      let i = 0;
      i < 200 && (await app.jobs.get(outcome.jobId))!.tasks['part-0']?.state !== 'running';
      i++
    )
      await new Promise((r) => setTimeout(r, 25));
    const started = Date.now();
    const job = await app.orchestrator.cancel(outcome.jobId);
    expect(job.state).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await listKeys(app, output, `${input}/slow.jpg/`)).toEqual([]);
  });

  it('adopts a committed manifest after a restart instead of redoing the work', async () => {
    await app.store.putBytes(input, 'again.jpg', 'hello');
    const outcome = (await eventFor('again.jpg')) as { jobId: string };
    await waitForJobs(app.jobs, [outcome.jobId]);
    const fresh = await startEmbeddedApp(
      { handlers: copyHandlers, workflows: new Map([['image', copyWorkflow]]) },
      {
        MEDIAFLOW_S3_ENDPOINT: app.embedded!.endpoint,
        MEDIAFLOW_INPUT_BUCKET: input,
        MEDIAFLOW_OUTPUT_BUCKET: output,
      },
    );
    try {
      const replay = await fresh.orchestrator.submit({ bucket: input, key: 'again.jpg' });
      expect(replay).toMatchObject({ status: 'adopted', jobId: outcome.jobId, state: 'succeeded' });
      expect((await fresh.jobs.get(outcome.jobId))!.outputs).toHaveLength(3);
    } finally {
      await fresh.close();
    }
  });
});
