import { jobProgress, type JobRecord } from '../jobs/job.js';
import { MANIFEST_NAME } from '../jobs/manifest.js';
import type { JobSummary, JobView } from './schemas.js';

/** The API's URL of one of a job's objects, by its key relative to the job's output prefix. */
export function outputUrl(jobId: string, relativeKey: string): string {
  return `/v1/jobs/${jobId}/outputs/${relativeKey.split('/').map(encodeURIComponent).join('/')}`;
}

/** A job as listed: enough for a row of the jobs table, without per-task detail. */
export function jobSummary(job: JobRecord): JobSummary {
  const { source } = job.spec;
  return {
    id: job.spec.id,
    state: job.state,
    progress: jobProgress(job),
    preset: job.spec.preset.name,
    source: {
      bucket: source.bucket,
      key: source.key,
      etag: source.etag,
      size: source.size,
      ...(source.versionId ? { versionId: source.versionId } : {}),
      ...(source.contentType ? { contentType: source.contentType } : {}),
    },
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.error ? { error: job.error } : {}),
  };
}

/** A job in full: per-task progress, outputs with the URLs the API serves them at, the error. */
export function jobView(job: JobRecord): JobView {
  const { id, outputPrefix, outputBucket } = job.spec;
  return {
    ...jobSummary(job),
    stage: job.stage,
    tasks: Object.entries(job.tasks)
      .map(([taskId, t]) => ({
        id: taskId,
        kind: t.kind,
        state: t.state,
        progress: t.state === 'succeeded' ? 1 : t.progress,
        attempts: t.attempts,
        ...(t.error ? { error: t.error } : {}),
      }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    outputBucket,
    outputPrefix,
    outputs: job.outputs.map((o) => ({
      ...o,
      url: outputUrl(id, o.key.slice(outputPrefix.length)),
    })),
    ...(job.state === 'succeeded' ? { manifestUrl: outputUrl(id, MANIFEST_NAME) } : {}),
  };
}
