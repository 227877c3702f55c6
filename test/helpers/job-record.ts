import type { JobRecord } from '../../pipeline/jobs/job.js';
import { findPreset } from '../../pipeline/presets/builtin.js';

let seq = 0;

/** A job record as the orchestrator creates it; ids sort in creation order. */
export function jobRecord(
  createdAt: string,
  overrides: Partial<JobRecord> = {},
  id = `j${String(Date.now()).padStart(14, '0')}${String(seq++).padStart(10, '0')}`,
): JobRecord {
  return {
    spec: {
      id,
      source: {
        bucket: 'in',
        key: `k/${id}.jpg`,
        etag: 'e1',
        versionId: undefined,
        size: 3,
        contentType: 'image/jpeg',
      },
      preset: findPreset('image'),
      outputBucket: 'out',
      outputPrefix: `k/${id}.jpg/image/`,
      scratchPrefix: `.mediaflow-scratch/${id}/`,
      stageWeights: [1],
    },
    state: 'queued',
    createdAt,
    updatedAt: createdAt,
    stage: 0,
    tasks: {},
    outputs: [],
    ...overrides,
  };
}
