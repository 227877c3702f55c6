import { describe, expect, it } from 'vitest';
import { jobProgress, type JobRecord, type TaskStatus } from '../../pipeline/jobs/job.js';

const task = (stage: number, state: TaskStatus['state'], progress = 0): TaskStatus => ({
  kind: 'x',
  stage,
  state,
  progress,
  attempts: 1,
});
const job = (
  stage: number,
  tasks: Record<string, TaskStatus>,
  state: JobRecord['state'] = 'running',
) => ({ spec: { stageWeights: [1, 4, 40, 4, 1] }, state, stage, tasks }) as unknown as JobRecord;

describe('jobProgress', () => {
  it('weights stages, so a fan-out never moves the bar backwards', () => {
    const afterProbe = jobProgress(job(1, { probe: task(1, 'succeeded') }));
    const fannedOut = jobProgress(
      job(3, {
        probe: task(1, 'succeeded'),
        split: task(2, 'succeeded'),
        a: task(3, 'queued'),
        b: task(3, 'queued'),
        c: task(3, 'queued'),
      }),
    );
    const halfway = jobProgress(
      job(3, {
        probe: task(1, 'succeeded'),
        split: task(2, 'succeeded'),
        a: task(3, 'succeeded'),
        b: task(3, 'running', 0.5),
        c: task(3, 'queued'),
      }),
    );
    expect(afterProbe).toBeCloseTo(1 / 50);
    expect(fannedOut).toBeCloseTo(5 / 50);
    expect(halfway).toBeCloseTo((5 + 40 * 0.5) / 50);
  });

  it('is 0 before planning, 1 only on success, and below 1 otherwise', () => {
    expect(jobProgress(job(0, {}, 'queued'))).toBe(0);
    expect(jobProgress(job(5, { m: task(5, 'succeeded') }))).toBe(0.99);
    expect(jobProgress(job(5, { m: task(5, 'succeeded') }, 'succeeded'))).toBe(1);
  });

  it('copes with more stages than the workflow expected', () => {
    expect(jobProgress(job(6, { z: task(6, 'running', 0.5) }))).toBe(0.99);
  });
});
