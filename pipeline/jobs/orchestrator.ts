import {
  ERROR_CODES,
  MediaflowError,
  toErrorRecord,
  type ErrorRecord,
} from '../../functions/errors.js';
import type { Config } from '../config/load.js';
import { hasDotSegment } from '../storage/key-safety.js';
import type { Preset } from '../presets/schema.js';
import type { PresetCatalog } from '../presets/catalog.js';
import { choosePresets } from '../presets/choose.js';
import { presetFingerprint } from '../presets/fingerprint.js';
import type { JobSpec, TaskResult, TaskSpec, Workflow } from '../plan/types.js';
import type { Runner, StageStatus } from '../runner/port.js';
import type { ObjectStore } from '../storage/port.js';
import { deriveJobId } from './job-id.js';
import { isFinal, settledTaskState, type JobRecord, type JobState } from './job.js';
import { buildManifest, readManifest, MANIFEST_NAME } from './manifest.js';
import { jobOutputPrefix, publishCurrent, scratchRoot } from './output-layout.js';
import { tasksToReset } from './retry-plan.js';
import type { JobStore } from './store.js';

/** A request to process one object, from an event, the API, the sweep or the CLI. */
export interface SubmitRequest {
  bucket: string;
  key: string;
  /** The version the event announced; when given and no longer current, the event is stale. */
  etag?: string;
  versionId?: string;
  /** A preset by name; default: the routes of the presets file, else the media type's preset. */
  preset?: string;
  /** Redo the work even when it succeeded before (after a preset or a default changed). */
  force?: boolean;
  /**
   * Called with each job's id before its record is written (and for existing jobs), so the API
   * records who asked before anyone can watch the job.
   */
  onJobId?: (jobId: string) => Promise<void>;
}

/**
 * `created`: a new job; `existing`: a job for this object version and preset was there already;
 * `adopted`: no job was known but the work was committed before (its manifest found), so the
 * job is recorded as succeeded without running; `reprocessing`: `force` restarted a job that had
 * succeeded.
 */
export type SubmitOutcome =
  | {
      status: 'created' | 'existing' | 'adopted' | 'reprocessing';
      jobId: string;
      state: JobRecord['state'];
      preset: string;
    }
  | {
      status: 'ignored';
      reason: 'output-location' | 'folder-marker' | 'unsafe-key' | 'missing' | 'stale' | 'no-route';
    };

export interface OrchestratorDeps {
  config: Config;
  store: ObjectStore;
  jobs: JobStore;
  workflows: ReadonlyMap<Preset['kind'], Workflow>;
  /** Presets and routes; default the configuration's (`config.catalog`). */
  catalog?: PresetCatalog;
  /** Called when a job ends (for CloudEvents notifications); failures here never fail the job. */
  onJobEnded?: (job: JobRecord) => void | Promise<void>;
  log: {
    info(o: object, m?: string): void;
    warn(o: object, m?: string): void;
    error(o: object, m?: string): void;
  };
}

/**
 * Drives jobs through their workflows: creates them idempotently, plans each stage from stored
 * results, hands stages to the runner, and on the end writes the manifest (success) or
 * compensates (failure, cancellation). It holds no state of its own, so any API or worker process
 * can continue any job.
 */
export class Orchestrator {
  private runner: Runner | undefined;
  private catalogNow: PresetCatalog;

  constructor(private readonly deps: OrchestratorDeps) {
    this.catalogNow = deps.catalog ?? deps.config.catalog;
  }

  /** The presets, routes and schedules in force (replaced by a reload of the presets file). */
  get catalog(): PresetCatalog {
    return this.catalogNow;
  }

  /** The presets this process knows (built-ins plus the presets file). */
  get presets(): readonly Preset[] {
    return this.catalogNow.presets;
  }

  /** Takes a reloaded presets file; jobs already created keep the preset they were created with. */
  setCatalog(catalog: PresetCatalog): void {
    this.catalogNow = catalog;
  }

  /** The runner and the orchestrator call each other; the runner is attached after both exist. */
  attach(runner: Runner): void {
    this.runner = runner;
  }

  /** True when a key lives where mediaflow writes, so its events must never trigger jobs. */
  isOutputLocation(bucket: string, key: string): boolean {
    const { output, outputPrefix } = this.deps.config.buckets;
    return bucket === output && key.startsWith(outputPrefix);
  }

  /** Submits and answers for the first preset chosen; see `submitAll` for every one. */
  async submit(request: SubmitRequest): Promise<SubmitOutcome> {
    return (await this.submitAll(request))[0]!;
  }

  /**
   * Makes the jobs for one object: one per preset chosen (by name, by the first matching route,
   * or by media type), each with its own id. Ignored objects give one `ignored` outcome.
   */
  async submitAll(request: SubmitRequest): Promise<SubmitOutcome[]> {
    if (this.isOutputLocation(request.bucket, request.key))
      return [{ status: 'ignored', reason: 'output-location' }];
    // Consoles create 'folders' as zero-byte keys ending in '/': not media, whatever the trigger.
    if (request.key.endsWith('/')) return [{ status: 'ignored', reason: 'folder-marker' }];
    // `.`/`..` segments (from an event or a trigger) never reach storage.
    if (hasDotSegment(request.key)) return [{ status: 'ignored', reason: 'unsafe-key' }];
    const head = await this.deps.store.head(request.bucket, request.key);
    if (!head) return [{ status: 'ignored', reason: 'missing' }];
    const stale =
      (request.etag && request.etag !== head.etag) ||
      (request.versionId && head.versionId && request.versionId !== head.versionId);
    if (stale) return [{ status: 'ignored', reason: 'stale' }];

    const source = {
      bucket: head.bucket,
      key: head.key,
      etag: head.etag,
      versionId: head.versionId,
      size: head.size,
      contentType: head.contentType,
      ...(head.lastModified ? { lastModified: head.lastModified.toISOString() } : {}),
    };
    const choice = choosePresets(this.catalogNow, source, request.preset);
    if ('ignored' in choice) {
      this.deps.log.info(
        { bucket: source.bucket, key: source.key, file: this.catalogNow.file },
        'upload ignored: no route of the presets file matches it',
      );
      return [{ status: 'ignored', reason: choice.ignored }];
    }
    const outcomes: SubmitOutcome[] = [];
    for (const preset of choice.presets)
      outcomes.push(await this.submitJob(source, preset, request.force ?? false, request.onJobId));
    return outcomes;
  }

  private async submitJob(
    source: JobSpec['source'],
    preset: Preset,
    force: boolean,
    onJobId?: (jobId: string) => Promise<void>,
  ): Promise<SubmitOutcome> {
    const id = deriveJobId(source, preset.name, presetFingerprint(preset));
    await onJobId?.(id);
    const answer = (status: 'created' | 'existing' | 'adopted' | 'reprocessing', state: JobState) =>
      ({ status, jobId: id, state, preset: preset.name }) as const;
    // The common case for a repeated event or a sweep pass: the job exists, so skip the manifest
    // look-up.
    const known = await this.deps.jobs.get(id);
    if (known) {
      if (force && known.state === 'succeeded')
        return answer('reprocessing', await this.redo(known));
      // An open job with nothing queued or running lost its enqueue (say a Redis blip after the
      // record was written): this redelivered event is the moment to start it again.
      if (!isFinal(known.state) && !known.error && (await this.stageStatus(known)) === 'missing')
        await this.redrive(known);
      return answer('existing', known.state);
    }
    const { outputPrefix } = this.deps.config.buckets;
    const spec: JobSpec = {
      id,
      source,
      preset,
      outputBucket: this.deps.config.buckets.output,
      outputPrefix: jobOutputPrefix(outputPrefix, source, preset.name, id),
      scratchPrefix: `${scratchRoot(outputPrefix)}${id}/`,
      stageWeights: this.workflowFor(preset.kind).stageWeights,
    };
    const now = new Date().toISOString();
    const record: JobRecord = {
      spec,
      state: 'queued',
      createdAt: now,
      updatedAt: now,
      stage: 0,
      tasks: {},
      outputs: [],
    };

    // A committed manifest for this exact job means the work was done before (by an earlier
    // process whose job store is gone): adopt it instead of doing it again, unless forced.
    const manifest = force ? null : await readManifest(this.deps.store, spec);
    if (manifest) Object.assign(record, { state: 'succeeded', outputs: manifest.outputs });

    if (!(await this.deps.jobs.create(record))) {
      const existing = await this.deps.jobs.get(id);
      return answer('existing', existing?.state ?? 'queued');
    }
    this.deps.log.info(
      { jobId: id, bucket: source.bucket, key: source.key, preset: preset.name, force },
      manifest ? 'job adopted: its manifest was committed before' : 'job created',
    );
    if (manifest) return answer('adopted', record.state);
    await this.advance(id);
    return answer('created', record.state);
  }

  /**
   * `force` on a job that succeeded: the same job runs again from the start, in place (same id,
   * same output keys), so whoever watches it sees it go back to queued and finish.
   */
  private async redo(job: JobRecord): Promise<JobState> {
    const results = await this.deps.jobs.getResults(job.spec.id);
    await this.deps.jobs.resetTasks(job.spec.id, [
      ...new Set([...Object.keys(job.tasks), ...Object.keys(results)]),
    ]);
    await this.deps.jobs.setState(job.spec.id, { state: 'queued', outputs: [], error: undefined });
    this.deps.log.info({ jobId: job.spec.id }, 'job forced to run again');
    await this.advance(job.spec.id);
    return 'queued';
  }

  /** Plans and starts the next stage, or completes the job when nothing is left. */
  async advance(jobId: string): Promise<void> {
    const job = await this.requireJob(jobId);
    if (isFinal(job.state)) return;
    const results = await this.deps.jobs.getResults(jobId);
    let tasks: TaskSpec[];
    try {
      tasks = this.workflowFor(job.spec.preset.kind).next(job.spec, results);
    } catch (error) {
      return this.fail(jobId, toErrorRecord(error));
    }
    if (tasks.length === 0) return this.complete(job, results);
    const stage = job.stage + 1;
    // Refused once a cancel or a failure has claimed the job (no new stage starts after that),
    // and when another process moved the job on meanwhile (it enqueues the stage, not us).
    const moved = await this.deps.jobs.setState(
      jobId,
      { state: 'running', stage },
      { openAtStage: job.stage },
    );
    if (!moved) return;
    for (const [order, task] of tasks.entries())
      await this.deps.jobs.setTask(jobId, task.id, {
        kind: task.kind,
        stage,
        state: 'queued',
        progress: 0,
        attempts: 0,
        order,
      });
    await this.requireRunner().runStage({ jobId, stage, tasks });
  }

  async stageDone(
    jobId: string,
    stage: number,
    results: Record<string, TaskResult>,
  ): Promise<void> {
    const job = await this.requireJob(jobId);
    if (isFinal(job.state) || job.error || stage > job.stage) return;
    // Forward-idempotent: a completion replayed after the job moved on (the queue retried it
    // because enqueueing the next stage failed, or its worker died between the two) re-drives
    // the current stage, which the runner deduplicates when it is already queued.
    if (stage < job.stage) return this.redrive(job);
    await this.deps.jobs.putResults(jobId, results);
    await this.advance(jobId);
  }

  /**
   * Starts the job's current stage again, or the next one when the current one's results are all
   * stored. Safe to call at any time: the runner ignores a stage it already has, and only one
   * caller moves a job to its next stage (see `advance`).
   */
  async redrive(job: JobRecord): Promise<void> {
    const jobId = job.spec.id;
    const results = await this.deps.jobs.getResults(jobId);
    const current = Object.entries(job.tasks).filter(([, t]) => t.stage === job.stage);
    if (job.stage === 0 || current.every(([taskId]) => taskId in results))
      return this.advance(jobId);
    let tasks: TaskSpec[];
    try {
      tasks = this.workflowFor(job.spec.preset.kind).next(job.spec, results);
    } catch (error) {
      return this.fail(jobId, toErrorRecord(error));
    }
    this.deps.log.info({ jobId, stage: job.stage }, 'stage re-driven');
    await this.requireRunner().runStage({ jobId, stage: job.stage, tasks });
  }

  /**
   * The watchdog's step for an open job that showed no activity for its grace period: a stage
   * still queued or running is left alone (a backlog, a long transcode), a lost one is re-driven,
   * one the runner gave up on fails the job with JOB_STALLED, and a job whose compensation never
   * finished (its process died) is compensated again. Returns what it did.
   */
  async recover(jobId: string): Promise<'ended' | 'live' | 'redriven' | 'failed' | 'compensated'> {
    const job = await this.deps.jobs.get(jobId);
    if (!job || isFinal(job.state)) return 'ended';
    await this.deps.jobs.touch(jobId);
    if (job.error) {
      await this.requireRunner().cancel(jobId);
      await this.compensate(
        job,
        job.error.code === 'CANCELLED' ? 'cancelled' : 'failed',
        job.error,
      );
      return 'compensated';
    }
    const status = await this.stageStatus(job);
    if (status === 'live') return 'live';
    if (status === 'dead') {
      await this.fail(jobId, {
        code: 'JOB_STALLED',
        message: `Stage ${job.stage} of job ${jobId} was given up by the queue without a result.`,
        retryable: ERROR_CODES.JOB_STALLED.retryable,
      });
      return 'failed';
    }
    this.deps.log.warn({ jobId, stage: job.stage }, 'idle job with nothing queued: re-driving');
    await this.redrive(job);
    return 'redriven';
  }

  private stageStatus(job: JobRecord): Promise<StageStatus> {
    return job.stage === 0
      ? Promise.resolve('missing')
      : this.requireRunner().stageStatus(job.spec.id, job.stage);
  }

  async stageFailed(
    jobId: string,
    _stage: number,
    taskId: string,
    error: ErrorRecord,
  ): Promise<void> {
    this.deps.log.warn({ jobId, taskId, code: error.code, message: error.message }, 'task failed');
    // A task whose worker was killed never recorded its own failure: record it here, so its view
    // does not say running.
    const task = (await this.deps.jobs.get(jobId))?.tasks[taskId];
    if (task && task.state !== 'failed')
      await this.deps.jobs.setTask(jobId, taskId, { ...task, state: 'failed', error });
    await this.fail(jobId, error);
  }

  /** Cancels a job: stops its tasks (killing their processes) and removes what it wrote. */
  async cancel(jobId: string): Promise<JobRecord> {
    await this.end(await this.requireJob(jobId), 'cancelled', {
      code: 'CANCELLED',
      message: 'The job was cancelled.',
      retryable: false,
    });
    return this.requireJob(jobId);
  }

  /**
   * Runs a failed or cancelled job again, in place: same id, same output keys, so watchers see it
   * go back to queued and finish.
   *
   * It re-runs the failed tasks and every task whose work compensation removed: a task that put
   * outputs or intermediates (`scratchWrites`, recorded by the executor) must run again, since
   * the failure deleted the job's outputs and scratch; a task that only computed (probe) keeps its
   * result. The plan then continues from the first stage that is not complete.
   *
   * Stage numbers keep counting up rather than restarting, so the replayed stages get fresh
   * runner ids and are never taken for the failed run's stages (BullMQ deduplicates by them).
   */
  async retry(jobId: string): Promise<JobRecord> {
    const job = await this.requireJob(jobId);
    if (job.state !== 'failed' && job.state !== 'cancelled') {
      throw new MediaflowError(
        'REQUEST_INVALID',
        `Job ${jobId} is ${job.state}; only failed or cancelled jobs can be retried`,
      );
    }
    // A job is one source version: if the object changed, the retry would fail on download anyway.
    const head = await this.deps.store.head(job.spec.source.bucket, job.spec.source.key);
    if (!head)
      throw new MediaflowError(
        'SOURCE_NOT_FOUND',
        `The source s3://${job.spec.source.bucket}/${job.spec.source.key} no longer exists`,
      );
    if (head.etag !== job.spec.source.etag)
      throw new MediaflowError(
        'SOURCE_CHANGED',
        `The source changed since job ${jobId} was created; submit it again for a new job`,
      );

    const results = await this.deps.jobs.getResults(jobId);
    await this.deps.jobs.resetTasks(jobId, tasksToReset(Object.keys(job.tasks), results));
    await this.deps.jobs.setState(jobId, { state: 'queued', outputs: [], error: undefined });
    this.deps.log.info({ jobId, previous: job.state, code: job.error?.code }, 'job retried');
    await this.advance(jobId);
    return this.requireJob(jobId);
  }

  private async complete(job: JobRecord, results: Record<string, TaskResult>): Promise<void> {
    try {
      const manifest = buildManifest(job.spec, results, new Date());
      // The manifest is written last: it is the job's commit record.
      await this.deps.store.putBytes(
        job.spec.outputBucket,
        job.spec.outputPrefix + MANIFEST_NAME,
        JSON.stringify(manifest, null, 2),
        { contentType: 'application/json' },
      );
      // Committed by now: a scratch clean-up failing in an outage must not fail the job; the
      // scratch sweep removes what is left.
      await this.removeScratch(job).catch((error: unknown) =>
        this.deps.log.warn({ jobId: job.spec.id, err: toErrorRecord(error) }, 'scratch left over'),
      );
      await this.settleTasks(job.spec.id, 'succeeded');
      // Before the job shows succeeded, so whoever sees that finds current.json up to date.
      const retract = await publishCurrent(this.deps.store, job.spec, this.deps.log);
      if (
        !(await this.deps.jobs.setState(
          job.spec.id,
          { state: 'succeeded', outputs: manifest.outputs },
          'open',
        ))
      ) {
        // A cancel or failure claimed the job meanwhile and is compensating: take the commit back.
        await retract();
        await this.deps.store.delete(job.spec.outputBucket, [
          job.spec.outputPrefix + MANIFEST_NAME,
        ]);
        return;
      }
      this.deps.log.info({ jobId: job.spec.id, outputs: manifest.outputs.length }, 'job succeeded');
      await this.announce(job.spec.id);
    } catch (error) {
      await this.fail(job.spec.id, toErrorRecord(error));
    }
  }

  private async fail(jobId: string, error: ErrorRecord): Promise<void> {
    await this.end(await this.requireJob(jobId), 'failed', error);
  }

  /**
   * Compensation: a job that did not succeed leaves no partial outputs and no intermediates.
   * Recording the error first claims the job (atomically, only while it is open), so of a cancel,
   * a failure and a completing stage racing each other exactly one ends the job; the claim also
   * stops new stages and tasks from starting. The final state is recorded after compensation, so
   * whoever sees it sees a clean bucket.
   */
  private async end(
    job: JobRecord,
    state: 'failed' | 'cancelled',
    error: ErrorRecord,
  ): Promise<void> {
    if (!(await this.deps.jobs.setState(job.spec.id, { error }, 'open'))) return;
    await this.requireRunner().cancel(job.spec.id);
    await this.compensate(job, state, error);
  }

  /** Removes what the job wrote and records its end; runs again if its first run never ended. */
  private async compensate(
    job: JobRecord,
    state: 'failed' | 'cancelled',
    error: ErrorRecord,
  ): Promise<void> {
    const { outputBucket, outputPrefix, id } = job.spec;
    try {
      // Exactly what the job wrote (recorded before each write), not its whole prefix: keys may
      // contain '/', so another job's outputs can live under this one's prefix.
      await this.deps.store.delete(outputBucket, [
        ...(await this.deps.jobs.getWrites(id)),
        outputPrefix + MANIFEST_NAME,
      ]);
      await this.removeScratch(job);
    } catch (cleanupError) {
      // The job stays claimed (error recorded, not ended), so the watchdog compensates it again
      // once storage is back: a clean-up that failed in an outage is retried, not forgotten.
      this.deps.log.error(
        { jobId: id, err: toErrorRecord(cleanupError) },
        'compensation could not remove every object; the watchdog will try again',
      );
      return;
    }
    await this.settleTasks(id, state);
    await this.deps.jobs.setState(id, { state, outputs: [] });
    this.deps.log.warn({ jobId: id, code: error.code, message: error.message }, `job ${state}`);
    await this.announce(id);
  }

  /**
   * Records each task still open as the job's end makes it (`settledTaskState`), so the stored
   * record agrees with what the API shows: tasks stopped with a failed job, or whose last status
   * write was lost in a job that succeeded.
   */
  private async settleTasks(id: string, jobState: JobState): Promise<void> {
    const latest = await this.deps.jobs.get(id);
    const endedAt = new Date().toISOString();
    for (const [taskId, task] of Object.entries(latest?.tasks ?? {})) {
      const settled = settledTaskState(jobState, task.state);
      if (settled === task.state) continue;
      const progress = settled === 'succeeded' ? 1 : task.progress;
      await this.deps.jobs.setTask(id, taskId, { ...task, state: settled, progress, endedAt });
    }
  }

  private async removeScratch(job: JobRecord): Promise<void> {
    await this.deps.store.deletePrefix(job.spec.outputBucket, job.spec.scratchPrefix);
  }

  private async announce(jobId: string): Promise<void> {
    const job = await this.deps.jobs.get(jobId);
    if (!job || !this.deps.onJobEnded) return;
    try {
      await this.deps.onJobEnded(job);
    } catch (error) {
      this.deps.log.warn({ jobId, err: toErrorRecord(error) }, 'job notification failed');
    }
  }

  private workflowFor(kind: Preset['kind']): Workflow {
    const workflow = this.deps.workflows.get(kind);
    if (!workflow) throw new MediaflowError('PRESET_UNKNOWN', `No workflow for ${kind} presets`);
    return workflow;
  }

  private async requireJob(jobId: string): Promise<JobRecord> {
    const job = await this.deps.jobs.get(jobId);
    if (!job) throw new MediaflowError('JOB_NOT_FOUND', `No job ${jobId}`);
    return job;
  }

  private requireRunner(): Runner {
    if (!this.runner)
      throw new MediaflowError('INTERNAL', 'Orchestrator used before a runner was attached');
    return this.runner;
  }
}
