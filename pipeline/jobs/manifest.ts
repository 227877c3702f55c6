import type { JobSpec, OutputRecord, TaskResult } from '../plan/types.js';
import type { ObjectStore } from '../storage/port.js';

export const MANIFEST_NAME = 'manifest.json';

/**
 * The job's commit record, written last next to its outputs: what was made, from what, and how to
 * verify it.
 */
export interface Manifest {
  version: 1;
  jobId: string;
  source: JobSpec['source'];
  preset: string;
  completedAt: string;
  outputs: OutputRecord[];
  /**
   * Seam QC of a chunked video, by rendition: every join's frame gap and the SSIM of the frames on
   * either side (see functions/video/seam-qc.ts). Absent when nothing was joined.
   */
  seams?: Record<string, unknown[]>;
  /** Source streams not made into outputs, and why (bitmap subtitles, say). */
  skipped?: Array<{ stream: number; codec: string; reason: string }>;
}

export function buildManifest(
  spec: JobSpec,
  results: Readonly<Record<string, TaskResult>>,
  completedAt: Date,
): Manifest {
  const outputs = Object.values(results)
    .flatMap((r) => r.outputs ?? [])
    .sort((a, b) => a.key.localeCompare(b.key));
  const seams = Object.values(results).flatMap((r) =>
    Array.isArray(r['seams']) && typeof r['variant'] === 'object' && r['variant'] !== null
      ? [[String((r['variant'] as { name: unknown }).name), r['seams'] as unknown[]] as const]
      : [],
  );
  const skipped = Object.values(results).flatMap(
    (r) => (r['skipped'] as Manifest['skipped'] | undefined) ?? [],
  );
  return {
    version: 1,
    jobId: spec.id,
    source: spec.source,
    preset: spec.preset.name,
    completedAt: completedAt.toISOString(),
    outputs,
    ...(seams.length ? { seams: Object.fromEntries(seams) } : {}),
    ...(skipped.length ? { skipped } : {}),
  };
}

/**
 * The committed manifest of exactly this job, or null. A manifest of another job (older version)
 * does not count.
 */
export async function readManifest(store: ObjectStore, spec: JobSpec): Promise<Manifest | null> {
  const key = spec.outputPrefix + MANIFEST_NAME;
  if (!(await store.head(spec.outputBucket, key))) return null;
  try {
    const manifest = JSON.parse(
      (await store.getBytes(spec.outputBucket, key)).toString('utf8'),
    ) as Manifest;
    return manifest.jobId === spec.id ? manifest : null;
  } catch {
    return null;
  }
}
