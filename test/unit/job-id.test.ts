import { describe, expect, it } from 'vitest';
import { deriveJobId, JOB_ID_PATTERN } from '../../pipeline/jobs/job-id.js';

const source = { bucket: 'in', key: 'a.mp4', etag: 'e1', versionId: undefined };

describe('deriveJobId', () => {
  it('is the same for the same object version and preset', () => {
    expect(deriveJobId(source, 'video')).toBe(deriveJobId({ ...source }, 'video'));
    expect(deriveJobId(source, 'video')).toMatch(JOB_ID_PATTERN);
  });

  it('differs for a new version, another preset, or another key', () => {
    const id = deriveJobId(source, 'video');
    expect(deriveJobId({ ...source, etag: 'e2' }, 'video')).not.toBe(id);
    expect(deriveJobId({ ...source, versionId: 'v2' }, 'video')).not.toBe(id);
    expect(deriveJobId(source, 'video-sd')).not.toBe(id);
    expect(deriveJobId({ ...source, key: 'b.mp4' }, 'video')).not.toBe(id);
  });

  it('cannot be confused by separators inside names', () => {
    expect(deriveJobId({ ...source, bucket: 'a', key: 'b/c' }, 'p')).not.toBe(
      deriveJobId({ ...source, bucket: 'a/b', key: 'c' }, 'p'),
    );
  });
});
