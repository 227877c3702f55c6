import { describe, expect, it } from 'vitest';
import { tasksToReset } from '../../pipeline/jobs/retry-plan.js';

describe('tasksToReset', () => {
  it('keeps pure computations and re-runs whatever compensation removed or never finished', () => {
    const results = {
      probe: { media: {} },
      split: { segments: [], scratchWrites: ['seg-00000.nut'] },
      'transcode-0000': { files: {}, scratchWrites: ['enc-720p-00000.mp4'] },
      thumbnails: {
        outputs: [
          { key: 'k/poster.jpg', bytes: 1, sha256: 'x', contentType: 'image/jpeg', role: 'poster' },
        ],
      },
      empty: { outputs: [] },
    };
    const tasks = ['probe', 'split', 'transcode-0000', 'transcode-0001', 'thumbnails', 'empty'];
    expect(tasksToReset(tasks, results).sort()).toEqual([
      'split',
      'thumbnails',
      'transcode-0000',
      'transcode-0001',
    ]);
  });
});
