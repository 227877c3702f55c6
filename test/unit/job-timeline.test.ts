import { describe, expect, it } from 'vitest';
import { withoutPaths } from '../../pipeline/api/job-view.js';
import type { JobRecord, TaskStatus } from '../../pipeline/jobs/job.js';
import {
  currentStage,
  etaSeconds,
  formatSeconds,
  tasksInPlanOrder,
} from '../../pipeline/jobs/timeline.js';

const task = (stage: number, kind: string, extra: Partial<TaskStatus> = {}): TaskStatus => ({
  kind,
  stage,
  state: 'queued',
  progress: 0,
  attempts: 0,
  ...extra,
});
const job = (stage: number, tasks: Record<string, TaskStatus>, state = 'running') =>
  ({ spec: { stageWeights: [1, 1, 6, 1, 1] }, state, stage, tasks }) as unknown as JobRecord;

describe('job timeline', () => {
  it('lists tasks in plan order: by stage, then plan position, then ids with numbers', () => {
    const tasks = {
      thumbnails: task(3, 'thumbnails', { order: 12 }),
      'transcode-10': task(3, 'transcode', { order: 10 }),
      'transcode-2': task(3, 'transcode', { order: 2 }),
      audio: task(3, 'audio', { order: 11 }),
      probe: task(1, 'probe', { order: 0 }),
      split: task(2, 'split', { order: 0 }),
      // Recorded before plan order was stored: ids compared with numbers as numbers.
      'merge-720p': task(4, 'merge'),
      'merge-1080p': task(4, 'merge'),
    };
    expect(tasksInPlanOrder({ tasks }).map((t) => t.id)).toEqual([
      'probe',
      'split',
      'transcode-2',
      'transcode-10',
      'audio',
      'thumbnails',
      'merge-720p',
      'merge-1080p',
    ]);
  });

  it('names the current stage by its kinds, counted over the stages this run went through', () => {
    const tasks = {
      probe: task(1, 'probe', { state: 'succeeded' }),
      split: task(2, 'split', { state: 'succeeded' }),
      t0: task(3, 'transcode', { order: 0 }),
      t1: task(3, 'transcode', { order: 1 }),
      audio: task(3, 'audio', { order: 2 }),
    };
    expect(currentStage(job(3, tasks))).toBe('stage 3/5: transcode×2, audio');
    // After a retry stage numbers go on counting; probe kept its result from stage 1.
    expect(currentStage(job(7, { probe: tasks.probe, s: task(7, 'split') }))).toBe(
      'stage 2/5: split',
    );
    expect(currentStage(job(3, tasks, 'succeeded'))).toBeUndefined();
  });

  it('extrapolates the time left from the first start and the weighted progress', () => {
    const now = Date.parse('2026-01-01T00:01:00.000Z');
    const started = '2026-01-01T00:00:00.000Z';
    // Stages 1 and 2 done (2 of 10 weight units), stage 3 half done: 5 of 10 after 60 s.
    const tasks = {
      probe: task(1, 'probe', { state: 'succeeded', startedAt: started }),
      split: task(2, 'split', { state: 'succeeded' }),
      t0: task(3, 'transcode', { state: 'running', progress: 0.5 }),
    };
    expect(etaSeconds(job(3, tasks), now)).toBe(60);
    expect(etaSeconds(job(1, { probe: task(1, 'probe', { startedAt: started }) }), now)).toBe(
      undefined,
    );
    expect(etaSeconds(job(3, tasks, 'failed'), now)).toBeUndefined();
  });

  it('formats durations as people read them', () => {
    expect([0.25, 42, 185, 3720].map(formatSeconds)).toEqual([
      '0.3 s',
      '42 s',
      '3 min 5 s',
      '1 h 2 min',
    ]);
  });

  it("removes local paths from ffmpeg's output, keeping file names and other slashes", () => {
    expect(
      withoutPaths(
        'file:/tmp/mediaflow/t-1a2b/input.mp4: Invalid data\n' +
          'Error opening input file /var/tmp/mediaflow/x/seg-001.ts.\n' +
          'aspect 16/9, s3://bucket/key/a.mp4',
      ),
    ).toBe(
      'input.mp4: Invalid data\nError opening input file seg-001.ts.\naspect 16/9, ' +
        's3://bucket/key/a.mp4',
    );
  });
});
