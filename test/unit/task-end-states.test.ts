import { describe, expect, it } from 'vitest';
import { jobView } from '../../pipeline/api/job-view.js';
import { settledTaskState } from '../../pipeline/jobs/job.js';
import { decodeError, encodeError } from '../../pipeline/runner/bullmq-keys.js';
import { jobRecord } from '../helpers/job-store-conformance.js';

describe('a killed task and the end of its job', () => {
  it("turns BullMQ's stall-limit reasons into TASK_STALLED, not INTERNAL", () => {
    for (const reason of [
      'job stalled more than allowable limit',
      'job started more than allowable limit',
    ])
      expect(decodeError(reason)).toMatchObject({ code: 'TASK_STALLED', retryable: false });
    expect(decodeError('something else')).toMatchObject({ code: 'INTERNAL' });
    const ours = { code: 'FFMPEG_FAILED' as const, message: 'exit 1', retryable: false };
    expect(decodeError(encodeError(ours))).toEqual(ours);
  });

  it('settles open tasks to match the end of their job: cancelled, or succeeded', () => {
    for (const job of ['failed', 'cancelled'] as const) {
      expect(settledTaskState(job, 'running')).toBe('cancelled');
      expect(settledTaskState(job, 'queued')).toBe('cancelled');
      expect(settledTaskState(job, 'failed')).toBe('failed');
      expect(settledTaskState(job, 'succeeded')).toBe('succeeded');
    }
    // A succeeded job had every task's result: an open task there lost only its last write.
    expect(settledTaskState('succeeded', 'running')).toBe('succeeded');
    expect(settledTaskState('succeeded', 'queued')).toBe('succeeded');
    expect(settledTaskState('running', 'running')).toBe('running');
    expect(settledTaskState('queued', 'queued')).toBe('queued');
    const status = { kind: 'part', stage: 2, progress: 0.4, attempts: 1 };
    const job = jobRecord('2026-01-01T00:00:00.000Z', {
      state: 'failed',
      tasks: {
        a: { ...status, state: 'running' },
        b: { ...status, state: 'failed' },
        c: { ...status, state: 'queued' },
      },
    });
    expect(jobView(job).tasks.map((t) => [t.id, t.state])).toEqual([
      ['a', 'cancelled'],
      ['b', 'failed'],
      ['c', 'cancelled'],
    ]);
  });
});
