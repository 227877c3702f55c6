import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Schedule } from '../../pipeline/presets/file-schema.js';
import { buildServer } from '../../pipeline/api/server.js';
import { scheduleQueueName, startBullmqScheduler } from '../../pipeline/runner/bullmq-schedules.js';
import { startInProcessScheduler } from '../../pipeline/schedules/in-process.js';
import type { ScheduleDeps, ScheduleRun, Scheduler } from '../../pipeline/schedules/port.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';

/**
 * The timer trigger in both modes: a cron schedule fires and submits every object under its
 * prefix as a batch (idempotent: the next firing finds the jobs), exactly once per time however
 * many serve processes run (BullMQ), and a time missed while nothing ran is made up by one
 * catch-up run at start.
 */
describe('schedules', () => {
  let app: Awaited<ReturnType<typeof startEmbeddedApp>>;
  let input: string;
  const runs: { name: string; run: ScheduleRun; by: string }[] = [];
  const deps = (by: string): ScheduleDeps => ({
    store: app.store,
    orchestrator: app.orchestrator,
    inputBucket: input,
    log: app.log,
    onRun: (name, run) => runs.push({ name, run, by }),
  });
  const schedule = (name: string, cron: string, prefix: string): Schedule => ({
    name,
    cron,
    timezone: 'UTC',
    bucket: input,
    prefix,
  });
  const jobKeys = async () =>
    (await app.jobs.list({ limit: 200 })).jobs.map((j) => j.spec.source.key).sort();
  const runsOf = (name: string) => runs.filter((r) => r.name === name);

  beforeAll(async () => {
    app = await startEmbeddedApp({
      handlers: copyHandlers,
      workflows: new Map([['image', copyWorkflow]]),
    });
    input = app.config.buckets.input;
    for (const key of ['embedded/a.jpg', 'embedded/b.jpg', 'bullmq/c.jpg', 'bullmq/d.jpg'])
      await app.store.putBytes(input, key, key);
    await app.store.putBytes(input, 'elsewhere/e.jpg', 'not scheduled');
  });
  afterAll(() => app?.close());

  it('embedded: fires a cron schedule in process and creates a batch, idempotently', async () => {
    const stateFile = path.join(app.dataDir, 'schedules.json');
    const scheduler = startInProcessScheduler(
      deps('embedded'),
      [schedule('every-second', '* * * * * *', 'embedded/')],
      stateFile,
    );
    try {
      await expect.poll(() => runsOf('every-second').length, { timeout: 10_000 }).toBe(2);
      const [first, second] = runsOf('every-second').map((r) => r.run);
      expect(first?.report).toMatchObject({ listed: 2, created: 2, existing: 0 });
      expect(second?.report).toMatchObject({ listed: 2, created: 0, existing: 2 });
      expect(await jobKeys()).toEqual(['embedded/a.jpg', 'embedded/b.jpg']);
      const [view] = await scheduler.list();
      expect(view).toMatchObject({ name: 'every-second', prefix: 'embedded/', preset: null });
      expect(Date.parse(view?.nextRun ?? '')).toBeGreaterThan(Date.now() - 1000);
      expect(view?.lastRun?.report?.listed).toBe(2);
      expect(JSON.parse(fs.readFileSync(stateFile, 'utf8'))['every-second']).toBeDefined();
      const server = await buildServer(app, {
        rateLimit: false,
        schedules: () => scheduler.list(),
      });
      const res = await server.inject({ url: '/v1/schedules' });
      await server.close();
      expect(res.statusCode).toBe(200);
      expect(res.json().schedules.map((v: { name: string }) => v.name)).toEqual(['every-second']);
    } finally {
      await scheduler.close();
    }
  });

  it('embedded: times missed while down are made up by one catch-up run at start', async () => {
    const stateFile = path.join(app.dataDir, 'missed.json');
    // Last ran for 1 January 2025; the 2026 time was missed; 2027's is still to come.
    const last: ScheduleRun = {
      scheduledFor: '2025-01-01T00:00:00.000Z',
      startedAt: '2025-01-01T00:00:00.000Z',
      catchUp: false,
      report: undefined,
      error: undefined,
    };
    fs.writeFileSync(stateFile, JSON.stringify({ yearly: last }));
    const scheduler = startInProcessScheduler(
      deps('embedded'),
      [schedule('yearly', '0 0 1 1 *', 'elsewhere/'), schedule('never-ran', '0 0 1 1 *', 'x/')],
      stateFile,
    );
    try {
      await expect.poll(() => runsOf('yearly').length, { timeout: 10_000 }).toBe(1);
      await sleep(1000);
      expect(runsOf('yearly').map((r) => r.run.catchUp)).toEqual([true]);
      expect(runsOf('yearly')[0]?.run.scheduledFor).toBe('2026-01-01T00:00:00.000Z');
      expect(runsOf('never-ran')).toEqual([]);
      expect((await jobKeys()).filter((k) => k.startsWith('elsewhere/'))).toEqual([
        'elsewhere/e.jpg',
      ]);
    } finally {
      await scheduler.close();
    }
  });

  describe('distributed (BullMQ job schedulers)', () => {
    const queuePrefix = `sched-${crypto.randomBytes(3).toString('hex')}`;
    const options = () => ({ redisUrl: inject('redisUrl'), queuePrefix });
    const schedules = () => [schedule('bullmq-every-second', '* * * * * *', 'bullmq/')];
    afterAll(async () => {
      const queue = new Queue(scheduleQueueName(queuePrefix), {
        connection: { url: inject('redisUrl') },
      });
      await queue.obliterate({ force: true });
      await queue.close();
    });

    it('fires each time once however many serve processes run, and creates a batch', async () => {
      const a: Scheduler = await startBullmqScheduler(deps('a'), schedules(), options());
      const b: Scheduler = await startBullmqScheduler(deps('b'), schedules(), options());
      try {
        await expect
          .poll(() => runsOf('bullmq-every-second').length, { timeout: 15_000 })
          .toBeGreaterThanOrEqual(3);
        const times = runsOf('bullmq-every-second').map((r) => r.run.scheduledFor);
        expect(new Set(times).size).toBe(times.length);
        expect(runsOf('bullmq-every-second')[0]?.run.report).toMatchObject({ created: 2 });
        expect((await jobKeys()).filter((k) => k.startsWith('bullmq/'))).toEqual([
          'bullmq/c.jpg',
          'bullmq/d.jpg',
        ]);
        const [view] = await b.list();
        expect(view?.lastRun?.report?.listed).toBe(2);
        expect(Date.parse(view?.nextRun ?? '')).toBeGreaterThan(Date.now() - 1000);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('makes up times missed while no serve process ran with one catch-up run', async () => {
      await sleep(3500); // every serve process is down: three times pass
      const before = runsOf('bullmq-every-second').length;
      const c = await startBullmqScheduler(deps('c'), schedules(), options());
      try {
        await expect
          .poll(() => runsOf('bullmq-every-second').length - before, { timeout: 10_000 })
          .toBeGreaterThanOrEqual(3);
        const after = runsOf('bullmq-every-second').slice(before);
        expect(after.map((r) => r.run.catchUp)).toEqual([true, ...after.slice(1).map(() => false)]);
      } finally {
        await c.close();
      }
    });
  });
});
