import { toErrorRecord } from '../../functions/errors.js';
import type { JobSpec, SourceRef } from '../plan/types.js';
import type { ObjectStore } from '../storage/port.js';
import { MANIFEST_NAME } from './manifest.js';

/** The stable pointer to a key's current outputs for one preset, next to the version folders. */
export const CURRENT_NAME = 'current.json';

/**
 * Where a job writes: `<output prefix><input bucket>/<input key>/<preset>/<job id>/`. Every job
 * has a folder of its own, so a new upload of a key (a new ETag or version id, hence a new job id)
 * never writes over, interleaves with or compensates away another version's outputs. The folder
 * is the job id rather than the bare ETag because the id also covers the preset's definition
 * (an edited preset is a new job): one folder per source version x preset definition, and a job
 * id tells where its outputs are. The input bucket keeps two buckets' `a.jpg` apart.
 */
export function jobOutputPrefix(
  outputPrefix: string,
  source: Pick<SourceRef, 'bucket' | 'key'>,
  presetName: string,
  jobId: string,
): string {
  return `${keyPresetPrefix(outputPrefix, source, presetName)}${jobId}/`;
}

/**
 * Where jobs keep intermediates: `<output prefix>.mediaflow-scratch/`, one `<job id>/` each. No
 * bucket name starts with '.', so it never meets an output folder.
 */
export function scratchRoot(outputPrefix: string): string {
  return `${outputPrefix}.mediaflow-scratch/`;
}

/** `<output prefix><input bucket>/<input key>/<preset>/`: the versions of one key and preset. */
export function keyPresetPrefix(
  outputPrefix: string,
  source: Pick<SourceRef, 'bucket' | 'key'>,
  presetName: string,
): string {
  return `${outputPrefix}${source.bucket}/${source.key}/${presetName}/`;
}

/** The pointer of the job's key and preset, or undefined for a job of the older flat layout. */
export function currentPointerKey(spec: Pick<JobSpec, 'id' | 'outputPrefix'>): string | undefined {
  const own = `${spec.id}/`;
  return spec.outputPrefix.endsWith(own)
    ? spec.outputPrefix.slice(0, -own.length) + CURRENT_NAME
    : undefined;
}

/** What `current.json` says: which job's outputs are the key's current ones, and where. */
export interface CurrentPointer {
  version: 1;
  jobId: string;
  manifestKey: string;
  outputPrefix: string;
  source: { etag: string; versionId?: string; lastModified?: string };
  publishedAt: string;
}

/**
 * Points `current.json` at a job that is about to succeed (its manifest is written), unless a
 * newer version already holds it; returns how to undo that if the job is claimed by a cancel at
 * the last moment.
 * Newer means: the job's version is still the object in the input bucket (it is the current
 * upload), or else its upload time is later than the pointed-to one's. A failed job never gets
 * here, so a junk re-upload leaves the pointer on the last good version. Two versions of one key
 * finishing in the same instant may race (read, then write); the loser is still a complete,
 * servable version. Errors are logged, not raised: the job's own commit is its manifest.
 */
export async function publishCurrent(
  store: ObjectStore,
  spec: JobSpec,
  log: { warn(o: object, m?: string): void },
): Promise<Retract> {
  const key = currentPointerKey(spec);
  if (!key) return async () => {};
  try {
    const existing = await readPointer(store, spec.outputBucket, key);
    const head = await store.head(spec.source.bucket, spec.source.key);
    const isCurrentUpload = head?.etag === spec.source.etag;
    if (!isCurrentUpload) {
      const theirs = existing?.source.lastModified ?? '';
      const ours = spec.source.lastModified ?? '';
      if (existing && existing.jobId !== spec.id && !(ours > theirs)) return async () => {};
    }
    const pointer: CurrentPointer = {
      version: 1,
      jobId: spec.id,
      manifestKey: spec.outputPrefix + MANIFEST_NAME,
      outputPrefix: spec.outputPrefix,
      source: {
        etag: spec.source.etag,
        ...(spec.source.versionId ? { versionId: spec.source.versionId } : {}),
        ...(spec.source.lastModified ? { lastModified: spec.source.lastModified } : {}),
      },
      publishedAt: new Date().toISOString(),
    };
    await writePointer(store, spec.outputBucket, key, pointer);
    // Puts back what was there, if the pointer still names this job.
    return async () => {
      const now = await readPointer(store, spec.outputBucket, key);
      if (now?.jobId !== spec.id) return;
      if (existing) await writePointer(store, spec.outputBucket, key, existing);
      else await store.delete(spec.outputBucket, [key]);
    };
  } catch (error) {
    log.warn({ jobId: spec.id, err: toErrorRecord(error) }, `could not update ${CURRENT_NAME}`);
    return async () => {};
  }
}

/** Undoes a `publishCurrent` whose job did not get to succeed after all. */
export type Retract = () => Promise<void>;

function writePointer(
  store: ObjectStore,
  bucket: string,
  key: string,
  pointer: CurrentPointer,
): Promise<void> {
  return store.putBytes(bucket, key, JSON.stringify(pointer, null, 2), {
    contentType: 'application/json',
  });
}

export async function readPointer(
  store: ObjectStore,
  bucket: string,
  key: string,
): Promise<CurrentPointer | null> {
  if (!(await store.head(bucket, key))) return null;
  try {
    return JSON.parse((await store.getBytes(bucket, key, 64 * 1024)).toString('utf8'));
  } catch {
    return null;
  }
}
