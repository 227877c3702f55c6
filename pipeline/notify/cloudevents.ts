import type { ErrorRecord } from '../../functions/errors.js';
import { jobProgress, type JobRecord, type JobState } from '../jobs/job.js';
import type { OutputRecord } from '../plan/types.js';

/** A CloudEvents 1.0 event in structured JSON mode: the whole event is the HTTP body. */
export interface CloudEvent<T> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: T;
}

export const JOB_EVENT_TYPES = {
  progress: 'io.mediaflow.job.progress',
  completed: 'io.mediaflow.job.completed',
  failed: 'io.mediaflow.job.failed',
} as const;

export type JobEventKind = keyof typeof JOB_EVENT_TYPES;

export interface JobEventData {
  jobId: string;
  state: JobState;
  /** Rolled up from the tasks, in [0, 1]. */
  progress: number;
  preset: string;
  source: { bucket: string; key: string; etag: string; versionId?: string };
  outputBucket: string;
  outputs: OutputRecord[];
  error?: ErrorRecord;
}

/** The media type of a structured-mode CloudEvent body. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/**
 * The event announcing a job's progress or end. Ids are derived from the job and what happened,
 * so a retried or duplicated delivery carries the same id and receivers can deduplicate on
 * `source` + `id` as the CloudEvents spec intends. A cancelled job is announced as `job.failed`
 * with state `cancelled` and error code CANCELLED.
 */
export function jobCloudEvent(
  job: JobRecord,
  kind: JobEventKind,
  options: { source: string; now?: Date },
): CloudEvent<JobEventData> {
  const progress = kind === 'completed' ? 1 : jobProgress(job);
  const id =
    kind === 'progress'
      ? `${job.spec.id}.progress.${Math.round(progress * 100)}`
      : `${job.spec.id}.${job.state}`;
  const { bucket, key, etag, versionId } = job.spec.source;
  const data: JobEventData = {
    jobId: job.spec.id,
    state: job.state,
    progress,
    preset: job.spec.preset.name,
    source: { bucket, key, etag, ...(versionId ? { versionId } : {}) },
    outputBucket: job.spec.outputBucket,
    outputs: job.outputs,
    ...(job.error ? { error: job.error } : {}),
  };
  return {
    specversion: '1.0',
    id,
    source: options.source,
    type: JOB_EVENT_TYPES[kind],
    subject: job.spec.id,
    time: (options.now ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}

/** Which event a job's end is announced as. */
export function endKind(state: JobState): JobEventKind {
  return state === 'succeeded' ? 'completed' : 'failed';
}
