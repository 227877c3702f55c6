import type { Preset } from '../presets/schema.js';

/** The exact object version a job processes. */
export interface SourceRef {
  bucket: string;
  key: string;
  /** Without quotes. The job's downloads insist on this ETag, so a newer upload never mixes in. */
  etag: string;
  versionId: string | undefined;
  size: number;
  contentType: string | undefined;
  /** When this version was uploaded (ISO), if the store said: orders versions for current.json. */
  lastModified?: string;
}

/** What a job is: one source object version x one preset. Immutable once created. */
export interface JobSpec {
  id: string;
  source: SourceRef;
  preset: Preset;
  /** Final outputs go under this key prefix of the output bucket (ends with '/'). */
  outputPrefix: string;
  /**
   * Intermediates go under this key prefix of the output bucket (ends with '/'); removed when the
   * job ends.
   */
  scratchPrefix: string;
  outputBucket: string;
  /**
   * The workflow's expected share of work per stage, fixed at creation: drives the progress bar.
   */
  stageWeights: readonly number[];
}

/** One unit of work a runner schedules: a stateless function call over storage. */
export interface TaskSpec {
  /** Unique within the job, stable across retries and replays (e.g. `transcode-003`). */
  id: string;
  kind: string;
  /** JSON parameters; validated by the task handler's schema. */
  params: Record<string, unknown>;
}

/** An output object the job wrote, as listed in the manifest. */
export interface OutputRecord {
  key: string;
  bytes: number;
  sha256: string;
  contentType: string;
  /** What the output is, for humans and the dashboard: `hls-master`, `mp4`, `image`, ... */
  role: string;
  width?: number;
  height?: number;
  durationSeconds?: number;
  bitrate?: number;
  format?: string;
}

/** What a task returns: JSON only, since it crosses processes and is stored on the job. */
export interface TaskResult {
  outputs?: OutputRecord[];
  /** Intermediates the task stored under the job's scratch prefix (added by the task executor). */
  scratchWrites?: string[];
  [name: string]: unknown;
}

/**
 * A job's plan, as a pure function of what has finished so far. Given the results of every
 * completed stage, it returns the next stage's tasks, which run in parallel; an empty list means
 * the job is complete. Planning from history (rather than building the whole DAG up front) lets a
 * stage's fan-out depend on earlier results, such as one transcode task per segment the split
 * produced, and lets any process continue a job after a crash by re-planning from stored results.
 */
export interface Workflow {
  kind: Preset['kind'];
  /** Expected share of the work in each stage, in order: drives the job's progress bar. */
  stageWeights: readonly number[];
  next(job: JobSpec, done: Readonly<Record<string, TaskResult>>): TaskSpec[];
}
