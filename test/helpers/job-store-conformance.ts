import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobEvent, JobRecord, TaskStatus } from '../../pipeline/jobs/job.js';
import type { RetentionOptions } from '../../pipeline/jobs/retention.js';
import type { JobStore } from '../../pipeline/jobs/store.js';
import { findPreset } from '../../pipeline/presets/builtin.js';
import { jobRecord } from './job-record.js';

export { jobRecord };

/** Distinguishes the runs of one test across the stores of one file. */
let seq = 0;

export interface OpenedStore {
  store: JobStore;
  /** Resolves once `watch` delivers events (a Redis subscription is asynchronous). */
  watching?: () => Promise<void>;
  cleanup?: () => Promise<void>;
}

const running = (attempts = 1): TaskStatus => ({
  kind: 'image',
  stage: 1,
  state: 'running',
  progress: 0,
  attempts,
});

/**
 * The JobStore port's conformance suite, run on every store: what the orchestrator, the runners'
 * hooks and the API rely on, including concurrent writers.
 */
export function jobStoreConformance(
  name: string,
  open: (retention?: RetentionOptions) => Promise<OpenedStore>,
): void {
  describe(`JobStore conformance: ${name}`, () => {
    let opened: OpenedStore;
    let store: JobStore;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await store.close();
      await opened.cleanup?.();
    });

    it('creates a job once, even when many callers race to create it', async () => {
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      const created = await Promise.all(
        Array.from({ length: 8 }, () => store.create(structuredClone(job))),
      );
      expect(created.filter(Boolean)).toHaveLength(1);
      expect(await store.get(job.spec.id)).toEqual(job);
      expect(await store.get('j-missing')).toBeNull();
    });

    it('records written keys once each, for compensation', async () => {
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      await store.create(job);
      expect(await store.getWrites(job.spec.id)).toEqual([]);
      await Promise.all(['k/b', 'k/a', 'k/b'].map((key) => store.recordWrites(job.spec.id, [key])));
      await store.recordWrites(job.spec.id, []);
      expect(await store.getWrites(job.spec.id)).toEqual(['k/a', 'k/b']);
    });

    it(
      'applies a guarded patch only while the job is open, ' +
        'so exactly one of racing enders wins',
      async () => {
        const job = jobRecord('2026-01-01T00:00:00.000Z');
        await store.create(job);
        const error = { code: 'CANCELLED' as const, message: 'cancelled', retryable: false };
        const claims = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.setState(job.spec.id, i % 2 ? { error } : { state: 'succeeded' }, 'open'),
          ),
        );
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await store.setState(job.spec.id, { state: 'running', stage: 2 }, 'open')).toBe(
          false,
        );
        // Unguarded writes (compensation recording its end, a retry reopening the job) always
        // apply.
        expect(await store.setState(job.spec.id, { state: 'queued', error: undefined })).toBe(true);
        expect(await store.setState(job.spec.id, { state: 'running', stage: 2 }, 'open')).toBe(
          true,
        );
        expect(await store.get(job.spec.id)).toMatchObject({ state: 'running', stage: 2 });
      },
    );

    it('moves a job to its next stage once, whoever races to move it', async () => {
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      await store.create(job);
      const id = job.spec.id;
      const moves = await Promise.all(
        Array.from({ length: 6 }, () =>
          store.setState(id, { state: 'running', stage: 1 }, { openAtStage: 0 }),
        ),
      );
      expect(moves.filter(Boolean)).toHaveLength(1);
      expect(await store.setState(id, { stage: 2 }, { openAtStage: 1 })).toBe(true);
      // A stale mover (it read stage 0 or 1) cannot move the job back.
      expect(await store.setState(id, { stage: 1 }, { openAtStage: 0 })).toBe(false);
      expect(await store.setState(id, { stage: 2 }, { openAtStage: 1 })).toBe(false);
      expect((await store.get(id))!.stage).toBe(2);
      const error = { code: 'CANCELLED' as const, message: 'cancelled', retryable: false };
      await store.setState(id, { error }, 'open');
      expect(await store.setState(id, { stage: 3 }, { openAtStage: 2 })).toBe(false);
    });

    it('patches state, stage, outputs and error, and returns copies', async () => {
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      await store.create(job);
      await store.setState(job.spec.id, { state: 'running', stage: 2 });
      const output = {
        key: 'k/o.jpg',
        bytes: 3,
        sha256: 'a'.repeat(64),
        contentType: 'image/jpeg',
        role: 'image',
      };
      await store.setState(job.spec.id, { outputs: [output] });
      let got = (await store.get(job.spec.id))!;
      expect(got).toMatchObject({ state: 'running', stage: 2, outputs: [output] });
      expect(got.error).toBeUndefined();
      expect(got.updatedAt >= job.updatedAt).toBe(true);
      got.outputs.push(output);
      got = (await store.get(job.spec.id))!;
      expect(got.outputs).toHaveLength(1);
      await store.setState(job.spec.id, {
        state: 'failed',
        error: {
          code: 'MEDIA_UNREADABLE',
          message: 'bad',
          retryable: false,
          stderrTail: 'Invalid data',
        },
        outputs: [],
      });
      expect(await store.get(job.spec.id)).toMatchObject({
        state: 'failed',
        stage: 2,
        outputs: [],
        error: { code: 'MEDIA_UNREADABLE', stderrTail: 'Invalid data' },
      });
    });

    it('keeps every task status when many workers write to one job at once', async () => {
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      await store.create(job);
      const ids = Array.from({ length: 24 }, (_, i) => `transcode-${String(i).padStart(3, '0')}`);
      await Promise.all(
        ids.map((id, i) => store.setTask(job.spec.id, id, { ...running(), progress: i / 100 })),
      );
      await Promise.all(ids.map((id) => store.setTaskProgress(job.spec.id, id, 0.5)));
      const got = (await store.get(job.spec.id))!;
      expect(Object.keys(got.tasks).sort()).toEqual(ids);
      expect(
        Object.values(got.tasks).every((t) => t.state === 'running' && t.progress === 0.5),
      ).toBe(true);
      await store.setTask(job.spec.id, ids[0]!, {
        kind: 'image',
        stage: 1,
        state: 'failed',
        progress: 0,
        attempts: 3,
        error: { code: 'STORAGE_UNAVAILABLE', message: 'down', retryable: true },
      });
      expect((await store.get(job.spec.id))!.tasks[ids[0]!]).toEqual({
        kind: 'image',
        stage: 1,
        state: 'failed',
        progress: 0,
        attempts: 3,
        error: { code: 'STORAGE_UNAVAILABLE', message: 'down', retryable: true },
      });
      // Progress for a task that was never recorded creates nothing.
      await store.setTaskProgress(job.spec.id, 'ghost', 0.9);
      expect((await store.get(job.spec.id))!.tasks['ghost']).toBeUndefined();
    });

    it("keeps a task's plan order and first start across status writes", async () => {
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      await store.create(job);
      const base = { kind: 'transcode', stage: 2, progress: 0 };
      await store.setTask(job.spec.id, 't', { ...base, state: 'queued', attempts: 0, order: 3 });
      const first = '2026-01-01T00:00:01.000Z';
      await store.setTask(job.spec.id, 't', {
        ...base,
        state: 'running',
        attempts: 1,
        startedAt: first,
      });
      await store.setTask(job.spec.id, 't', {
        ...base,
        state: 'queued',
        attempts: 1,
        error: { code: 'STORAGE_UNAVAILABLE', message: 'down', retryable: true },
      });
      // A second attempt reports its own start; the task's first start stays.
      await store.setTask(job.spec.id, 't', {
        ...base,
        state: 'running',
        attempts: 2,
        startedAt: '2026-01-01T00:00:05.000Z',
      });
      await store.setTaskProgress(job.spec.id, 't', 0.5);
      expect((await store.get(job.spec.id))!.tasks['t']).toEqual({
        ...base,
        state: 'running',
        progress: 0.5,
        attempts: 2,
        order: 3,
        startedAt: first,
      });
      const ended = '2026-01-01T00:00:09.000Z';
      await store.setTask(job.spec.id, 't', {
        ...base,
        state: 'succeeded',
        progress: 1,
        attempts: 2,
        endedAt: ended,
      });
      expect((await store.get(job.spec.id))!.tasks['t']).toEqual({
        ...base,
        state: 'succeeded',
        progress: 1,
        attempts: 2,
        order: 3,
        startedAt: first,
        endedAt: ended,
      });
      // A reset task starts over: its next run records a new start.
      await store.resetTasks(job.spec.id, ['t']);
      await store.setTask(job.spec.id, 't', { ...base, state: 'queued', attempts: 0, order: 1 });
      expect((await store.get(job.spec.id))!.tasks['t']).toEqual({
        ...base,
        state: 'queued',
        attempts: 0,
        order: 1,
      });
    });

    it('refuses a late queued or running write once the task or its job has ended', async () => {
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      await store.create(job);
      const id = job.spec.id;
      const task = (state: TaskStatus['state'], attempts = 1): TaskStatus => ({
        ...running(attempts),
        state,
        ...(state === 'succeeded' ? { progress: 1 } : {}),
      });
      await store.setState(id, { state: 'running', stage: 1 });
      await store.setTask(id, 'a', task('running'));
      await store.setTask(id, 'b', task('running'));
      // A replayed attempt succeeded; the killed one's start arrives after it.
      await store.setTask(id, 'a', task('succeeded', 2));
      await store.setTask(id, 'a', task('running'));
      await store.setTask(id, 'a', task('queued'));
      expect((await store.get(id))!.tasks.a).toEqual(task('succeeded', 2));
      // The job ends; a task still running in it may end late, but never starts again.
      await store.setTask(id, 'b', task('succeeded'));
      await store.setState(id, { state: 'succeeded' });
      await store.setTask(id, 'b', task('running', 2));
      await store.setTask(id, 'c', task('queued'));
      expect((await store.get(id))!.tasks).toEqual({
        a: task('succeeded', 2),
        b: task('succeeded'),
      });
      // A job being ended (its error recorded) takes no new start either; ends still land.
      const failing = jobRecord('2026-01-01T00:00:00.000Z', { state: 'running', stage: 1 });
      await store.create(failing);
      const fid = failing.spec.id;
      await store.setTask(fid, 'x', task('running'));
      const error = { code: 'JOB_STALLED' as const, message: 'stalled', retryable: true };
      expect(await store.setState(fid, { error }, 'open')).toBe(true);
      await store.setTask(fid, 'y', task('running'));
      await store.setTask(fid, 'x', task('cancelled'));
      await store.setState(fid, { state: 'failed' });
      await store.setTask(fid, 'x', task('running', 2));
      expect((await store.get(fid))!.tasks).toEqual({ x: task('cancelled') });
      // A retry reopens the job and resets its tasks, as the orchestrator does: they run again.
      await store.resetTasks(fid, ['x']);
      await store.setState(fid, { state: 'queued', outputs: [], error: undefined });
      await store.setTask(fid, 'x', task('queued', 0));
      await store.setTask(fid, 'x', task('running'));
      expect((await store.get(fid))!.tasks).toEqual({ x: task('running') });
    });

    it('merges results, and forgets the results and statuses of reset tasks only', async () => {
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      await store.create(job);
      await store.putResults(job.spec.id, { probe: { duration: 2.5 } });
      await store.putResults(job.spec.id, { 'part-0': { outputs: [] }, 'part-1': { n: 1 } });
      await store.setTask(job.spec.id, 'part-1', running());
      await store.setTask(job.spec.id, 'probe', running());
      expect(await store.getResults(job.spec.id)).toEqual({
        probe: { duration: 2.5 },
        'part-0': { outputs: [] },
        'part-1': { n: 1 },
      });
      await store.resetTasks(job.spec.id, ['part-1']);
      expect(await store.getResults(job.spec.id)).toEqual({
        probe: { duration: 2.5 },
        'part-0': { outputs: [] },
      });
      expect(Object.keys((await store.get(job.spec.id))!.tasks)).toEqual(['probe']);
    });

    it('refuses writes and result reads for a job that does not exist', async () => {
      await expect(store.setState('j-missing', { state: 'running' })).rejects.toThrow(/not found/);
      await expect(store.setTask('j-missing', 't', running())).rejects.toThrow(/not found/);
      await expect(store.putResults('j-missing', { t: {} })).rejects.toThrow(/not found/);
      await expect(store.getResults('j-missing')).rejects.toThrow(/not found/);
      await expect(store.resetTasks('j-missing', ['t'])).rejects.toThrow(/not found/);
    });

    it('lists newest first, by state, in pages that show every job exactly once', async () => {
      // Two pairs share a millisecond: page breaks inside a tie must neither skip nor repeat.
      const times = [
        '2026-01-01T00:00:01.000Z',
        '2026-01-01T00:00:02.000Z',
        '2026-01-01T00:00:02.000Z',
        '2026-01-01T00:00:03.000Z',
        '2026-01-01T00:00:04.000Z',
        '2026-01-01T00:00:04.000Z',
        '2026-01-01T00:00:05.000Z',
      ];
      // Ids run against time (later jobs have smaller ids) except within a tie, so an index that
      // ordered by id alone, or by time alone, would fail.
      const run = seq++;
      const jobs = times.map((t, i) =>
        jobRecord(t, {}, `j${run}-${9 - new Set(times.slice(0, i + 1)).size}${i}`),
      );
      for (const job of jobs) await store.create(job);
      const newestFirst = jobs.map((j) => j.spec.id).reverse();

      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.list({ limit: 2, ...(cursor ? { cursor } : {}) });
        expect(page.jobs.length).toBeLessThanOrEqual(2);
        seen.push(...page.jobs.map((j) => j.spec.id));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(newestFirst);

      // A cursor the store never issued must not send a client paging in circles.
      const again: string[] = [];
      let forged: string | null = '-3';
      for (let pages = 0; forged && pages < 10; pages++) {
        const page = await store.list({ limit: 2, cursor: forged });
        again.push(...page.jobs.map((j) => j.spec.id));
        forged = page.nextCursor;
      }
      expect(forged).toBeNull();
      expect(new Set(again).size).toBe(again.length);

      await store.setState(jobs[1]!.spec.id, { state: 'succeeded' });
      await store.setState(jobs[4]!.spec.id, { state: 'succeeded' });
      const succeeded = await store.list({ state: 'succeeded', limit: 10 });
      expect(succeeded.jobs.map((j) => j.spec.id)).toEqual([jobs[4]!.spec.id, jobs[1]!.spec.id]);
      expect(succeeded.nextCursor).toBeNull();
      const queued = await store.list({ state: 'queued', limit: 10 });
      expect(queued.jobs.map((j) => j.spec.id)).toEqual(
        newestFirst.filter((id) => id !== jobs[1]!.spec.id && id !== jobs[4]!.spec.id),
      );
      expect((await store.list({ state: 'cancelled', limit: 10 })).jobs).toEqual([]);
    });

    it('searches source keys and preset names, ignoring case, page by page', async () => {
      const made = (at: string, key: string, preset: string) => {
        const job = jobRecord(`2026-02-01T00:00:0${at}.000Z`);
        job.spec.source.key = key;
        job.spec.preset = findPreset(preset);
        return job;
      };
      const beach = made('1', 'trips/Holiday-Beach.jpg', 'image');
      const office = made('2', 'trips/office.jpg', 'image');
      const clip = made('3', 'clips/HOLIDAY.mp4', 'video');
      const other = made('4', 'misc/x.mp4', 'video-sd');
      for (const job of [beach, office, clip, other]) await store.create(job);
      // Follows cursors to the end: a store may answer a search a page at a time.
      const search = async (q: string, limit = 10, state?: JobRecord['state']) => {
        const ids: string[] = [];
        let cursor: string | undefined;
        for (let calls = 0; calls < 20; calls++) {
          const page = await store.list({
            q,
            limit,
            ...(state ? { state } : {}),
            ...(cursor ? { cursor } : {}),
          });
          expect(page.jobs.length).toBeLessThanOrEqual(limit);
          ids.push(...page.jobs.map((j) => j.spec.id));
          if (!page.nextCursor) return ids;
          cursor = page.nextCursor;
        }
        throw new Error(`search ${q} did not end`);
      };
      const id = (job: JobRecord) => job.spec.id;
      expect(await search('holiday')).toEqual([id(clip), id(beach)]);
      expect(await search('VIDEO')).toEqual([id(other), id(clip)]);
      expect(await search('video-SD')).toEqual([id(other)]);
      expect(await search('trips/', 1)).toEqual([id(office), id(beach)]);
      expect(await search('nowhere')).toEqual([]);
      // Plain text: no wildcards.
      expect(await search('%')).toEqual([]);
      expect(await search('_')).toEqual([]);
      await store.setState(beach.spec.id, { state: 'succeeded' });
      expect(await search('holiday', 10, 'succeeded')).toEqual([id(beach)]);
      expect(await search('holiday', 10, 'queued')).toEqual([id(clip)]);
    });

    it('indexes open jobs by last activity, oldest first, and forgets ended ones', async () => {
      const [a, b, c] = ['a', 'b', 'c'].map(() => jobRecord('2026-01-01T00:00:00.000Z'));
      const mine = async (before: number) =>
        (await store.idle(before, 1000)).filter((id) => [a, b, c].some((j) => j!.spec.id === id));
      for (const job of [a, b, c]) {
        await store.create(job!);
        await sleep(5);
      }
      const afterCreate = Date.now() + 1;
      expect(await mine(afterCreate)).toEqual([a!.spec.id, b!.spec.id, c!.spec.id]);
      expect(await store.idle(afterCreate, 1)).toHaveLength(1);
      await sleep(5);
      // A task change, progress and a touch each count as activity; the oldest comes first.
      await store.setTask(a!.spec.id, 'image', running());
      await sleep(5);
      await store.setTaskProgress(b!.spec.id, 'image', 0.5);
      await store.setTask(b!.spec.id, 'image', running());
      await sleep(5);
      await store.setTaskProgress(b!.spec.id, 'image', 0.7);
      await sleep(5);
      await store.touch(c!.spec.id);
      expect(await mine(Date.now() + 1)).toEqual([a!.spec.id, b!.spec.id, c!.spec.id]);
      expect(await mine(afterCreate)).toEqual([]);
      // A job with an error recorded but not yet ended (compensation under way) is still open.
      await store.setState(a!.spec.id, {
        error: { code: 'MEDIA_UNREADABLE', message: 'bad', retryable: false },
      });
      await store.setState(b!.spec.id, { state: 'succeeded' });
      await store.setState(c!.spec.id, { state: 'cancelled' });
      await store.setTask(c!.spec.id, 'image', running());
      await store.setTaskProgress(c!.spec.id, 'image', 0.9);
      await store.touch(c!.spec.id);
      expect(await mine(Date.now() + 1)).toEqual([a!.spec.id]);
      // Reopened (a retry), it is watched again.
      await store.setState(c!.spec.id, { state: 'queued' });
      expect(await mine(Date.now() + 1)).toEqual([a!.spec.id, c!.spec.id]);
      await expect(store.touch('j-missing')).rejects.toThrow(/not found/);
    });

    it('counts jobs per state as they change state', async () => {
      const none = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
      expect(await store.counts()).toEqual(none);
      const [a, b, c] = ['a', 'b', 'c'].map(() => jobRecord('2026-01-01T00:00:00.000Z'));
      for (const job of [a!, b!, c!]) await store.create(job);
      await store.create(structuredClone(a!));
      expect(await store.counts()).toEqual({ ...none, queued: 3 });
      await store.setState(a!.spec.id, { state: 'running' });
      await store.setState(b!.spec.id, { state: 'running' });
      await store.setState(b!.spec.id, { state: 'succeeded' });
      await store.setState(c!.spec.id, { state: 'cancelled' });
      await store.setState(c!.spec.id, { state: 'cancelled' });
      expect(await store.counts()).toEqual({ ...none, running: 1, succeeded: 1, cancelled: 1 });
      await store.setState(c!.spec.id, { state: 'queued' });
      expect(await store.counts()).toEqual({ ...none, queued: 1, running: 1, succeeded: 1 });
    });

    describe('retention', () => {
      const day = 24 * 3600 * 1000;
      let clock = 0;
      let short: OpenedStore;
      const finished = async (state: 'succeeded' | 'failed' | 'cancelled') => {
        const job = jobRecord('2026-01-01T00:00:00.000Z');
        await short.store.create(job);
        await short.store.setTask(job.spec.id, 'image', running());
        await short.store.putResults(job.spec.id, { image: { outputs: [] } });
        await short.store.recordWrites(job.spec.id, ['k/a']);
        await short.store.setState(job.spec.id, { state });
        return job.spec.id;
      };
      const openWith = async (retentionMs: number) => {
        clock = Date.now();
        short = await open({ retentionMs, now: () => clock });
      };
      afterEach(async () => {
        await short.store.close();
        await short.cleanup?.();
      });

      it('forgets a finished job after the retention, indexes included', async () => {
        await openWith(day);
        const open = jobRecord('2026-01-01T00:00:00.000Z');
        await short.store.create(open);
        const ids = [await finished('succeeded'), await finished('failed')];
        clock += day - 1000;
        expect(await short.store.get(ids[0]!)).not.toBeNull();
        clock += 2000;
        // Reading counts prunes a batch of expired jobs; an open job never expires.
        expect(await short.store.counts()).toMatchObject({ queued: 1, succeeded: 0, failed: 0 });
        for (const id of ids) expect(await short.store.get(id)).toBeNull();
        expect((await short.store.list({ limit: 10 })).jobs.map((j) => j.spec.id)).toEqual([
          open.spec.id,
        ]);
        expect((await short.store.list({ state: 'succeeded', limit: 10 })).jobs).toEqual([]);
        // The id is free again: the same source and preset make a new job.
        expect(await short.store.create(jobRecord(open.createdAt, {}, ids[0]))).toBe(true);
        expect(await short.store.counts()).toMatchObject({ queued: 2 });
      });

      it('keeps a job a retry reopened, and expires it once it finishes again', async () => {
        await openWith(day);
        const id = await finished('failed');
        clock += day / 2;
        await short.store.setState(id, { state: 'queued', error: undefined });
        clock += 2 * day;
        expect(await short.store.counts()).toMatchObject({ queued: 1, failed: 0 });
        expect(await short.store.get(id)).toMatchObject({ state: 'queued' });
        await short.store.setState(id, { state: 'succeeded' });
        clock += day + 1;
        expect(await short.store.counts()).toMatchObject({ queued: 0, succeeded: 0 });
        expect(await short.store.get(id)).toBeNull();
      });

      it('keeps every job forever with a retention of 0', async () => {
        await openWith(0);
        const id = await finished('cancelled');
        clock += 10_000 * day;
        expect(await short.store.counts()).toMatchObject({ cancelled: 1 });
        expect(await short.store.get(id)).toMatchObject({ state: 'cancelled' });
        expect(await short.store.getWrites(id)).toEqual(['k/a']);
      });
    });

    it('announces job and task changes to watchers until they unsubscribe', async () => {
      const events: JobEvent[] = [];
      const stop = store.watch((e) => events.push(e));
      await opened.watching?.();
      const job = jobRecord('2026-01-01T00:00:00.000Z');
      await store.create(job);
      await store.setTask(job.spec.id, 'image', running());
      await store.setTaskProgress(job.spec.id, 'image', 0.25);
      await store.setState(job.spec.id, {
        state: 'failed',
        error: { code: 'MEDIA_UNREADABLE', message: 'bad', retryable: false },
      });
      const mine = () => events.filter((e) => e.jobId === job.spec.id);
      for (let i = 0; i < 100 && mine().length < 4; i++) await sleep(10);
      expect(mine()).toEqual([
        { type: 'job', jobId: job.spec.id, state: 'queued' },
        { type: 'task', jobId: job.spec.id, taskId: 'image', status: running() },
        {
          type: 'task',
          jobId: job.spec.id,
          taskId: 'image',
          status: { ...running(), progress: 0.25 },
        },
        {
          type: 'job',
          jobId: job.spec.id,
          state: 'failed',
          error: { code: 'MEDIA_UNREADABLE', message: 'bad', retryable: false },
        },
      ]);
      stop();
      await store.setState(job.spec.id, { state: 'cancelled' });
      await sleep(100);
      expect(mine()).toHaveLength(4);
    });
  });
}
