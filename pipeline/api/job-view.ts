import type { ErrorRecord } from '../../functions/errors.js';
import { jobProgress, settledTaskState, type JobRecord } from '../jobs/job.js';
import { MANIFEST_NAME } from '../jobs/manifest.js';
import { currentStage, etaSeconds, tasksInPlanOrder } from '../jobs/timeline.js';
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
    ...(job.error ? { error: shownError(job.error) } : {}),
    ...optional('currentStage', currentStage(job)),
    ...optional('etaSeconds', etaSeconds(job)),
  };
}

/** A job in full: per-task progress, outputs with the URLs the API serves them at, the error. */
export function jobView(job: JobRecord): JobView {
  const { id, outputPrefix, outputBucket } = job.spec;
  return {
    ...jobSummary(job),
    stage: job.stage,
    tasks: tasksInPlanOrder(job).map((t) => ({
      id: t.id,
      kind: t.kind,
      state: settledTaskState(job.state, t.state),
      progress: t.state === 'succeeded' ? 1 : t.progress,
      attempts: t.attempts,
      ...(t.error ? { error: shownError(t.error) } : {}),
      stage: t.stage,
      ...optional('startedAt', t.startedAt),
      ...optional('endedAt', t.endedAt),
    })),
    outputBucket,
    outputPrefix,
    outputs: job.outputs.map((o) => ({
      ...o,
      url: outputUrl(id, o.key.slice(outputPrefix.length)),
    })),
    ...(job.state === 'succeeded' ? { manifestUrl: outputUrl(id, MANIFEST_NAME) } : {}),
  };
}

/** `{ name: value }`, or nothing when the value is undefined (optional fields stay absent). */
function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}

/**
 * Local paths in ffmpeg's output (the stderr tail; messages are ours) are the worker's scratch
 * folders: noise for the reader and a detail of the server's layout. Only the file name stays
 * ("…/input.mp4" becomes "input.mp4").
 */
export function withoutPaths(text: string): string {
  return text.replace(/(?:\bfile:|(?<![\w:/.]))(?:\/[^\s/:'"]+)+\/([^\s/:'"]+)/g, '$1');
}

function shownError(error: ErrorRecord): ErrorRecord {
  return {
    ...error,
    ...(error.stderrTail ? { stderrTail: withoutPaths(error.stderrTail) } : {}),
  };
}
