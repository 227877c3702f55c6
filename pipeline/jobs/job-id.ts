import crypto from 'node:crypto';

/**
 * A job's id, derived from what it processes: the same object version and preset always give the
 * same id, so a repeated or concurrent event finds the existing job instead of starting another,
 * while a new version of the key (new ETag or version id) gives a new job. The preset's
 * fingerprint (`presets/fingerprint.ts`) makes an edited preset give new jobs too.
 */
export function deriveJobId(
  source: { bucket: string; key: string; etag: string; versionId: string | undefined },
  presetName: string,
  presetFingerprint = '',
): string {
  const identity = JSON.stringify([
    source.bucket,
    source.key,
    source.versionId ?? '',
    source.etag,
    presetName,
    presetFingerprint,
  ]);
  return 'j' + crypto.createHash('sha256').update(identity).digest('hex').slice(0, 24);
}

export const JOB_ID_PATTERN = /^j[0-9a-f]{24}$/;
