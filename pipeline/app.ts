import { resolveBinaries, type Binaries } from '../functions/ffmpeg/binaries.js';
import { probeCapabilities, type Capabilities } from '../functions/ffmpeg/capabilities.js';
import { checkPresetNeeds } from './presets/needs.js';
import { configureSharp } from '../functions/image/sharp-settings.js';
import { MediaflowError } from '../functions/errors.js';
import { isFinal } from './jobs/job.js';
import { taskRetry, type Config } from './config/load.js';
import { Orchestrator, type OrchestratorDeps } from './jobs/orchestrator.js';
import { SqliteJobStore } from './jobs/sqlite-store.js';
import type { JobStore } from './jobs/store.js';
import type { Logger } from './log.js';
import { WORKFLOWS } from './plan/workflows.js';
import { InProcessRunner } from './runner/in-process.js';
import type { Runner, RunnerHooks } from './runner/port.js';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from './storage/embedded-s3.js';
import type { ObjectStore } from './storage/port.js';
import { S3Store } from './storage/s3-store.js';
import { executeTask } from './tasks/execute.js';
import type { AnyTaskHandler } from './tasks/handler.js';
import { HANDLERS } from './tasks/registry.js';
import {
  binaryOptions,
  binarySummary,
  capabilitySummary,
  mediaConfinement,
} from './tasks/media-tools.js';

/** Everything a mediaflow process runs on, wired once at the entry point and passed down. */
export interface App {
  config: Config;
  log: Logger;
  store: ObjectStore;
  jobs: JobStore;
  orchestrator: Orchestrator;
  runner: Runner;
  /** Present in the embedded mode: the local S3-protocol server. */
  embedded: EmbeddedS3 | undefined;
  /** The ffmpeg/ffprobe in use, checked at start (reported by /readyz and the start-up log). */
  binaries: Binaries;
  /** What that ffmpeg can do (encoders, filters, hardware), probed at start. */
  capabilities: Capabilities;
  close(): Promise<void>;
}

export interface AppOverrides {
  jobs?: JobStore;
  handlers?: ReadonlyMap<string, AnyTaskHandler>;
  workflows?: OrchestratorDeps['workflows'];
  /** Builds the runner from the hooks; defaults to the in-process runner. */
  runner?: (hooks: RunnerHooks) => Runner;
  onJobEnded?: OrchestratorDeps['onJobEnded'];
}

/**
 * Starts the storage (embedded s3rver unless an endpoint is configured), makes sure both buckets
 * exist, and wires the orchestrator to a runner. Checks the media binaries up front so a broken
 * install fails at start-up with a clear message, not on the first upload.
 */
export async function createApp(
  config: Config,
  log: Logger,
  overrides: AppOverrides = {},
): Promise<App> {
  for (const warning of config.catalog.warnings)
    log.warn({ file: config.catalog.file }, `presets file: ${warning}`);
  const binaries = await resolveBinaries(binaryOptions(config));
  const capabilities = await probeCapabilities(binaries);
  log.info({ ...binarySummary(binaries), ...capabilitySummary(capabilities) }, 'media tools');
  checkPresetNeeds(config.catalog, capabilities, binaries, log);
  for (const warning of binaries.warnings) log.warn({}, warning);
  const { confinement, sandboxProblem } = await mediaConfinement(config, binaries);
  log.info(
    {
      sandbox: confinement.bwrap ? 'bwrap' : 'off',
      limits: confinement.prlimit ? confinement.limits : 'none',
    },
    'media processes confined',
  );
  if (sandboxProblem)
    log.warn(
      {},
      `media processes run without a sandbox: ${sandboxProblem}. Install bubblewrap ` +
        `(apt-get install bubblewrap); MEDIAFLOW_SANDBOX=required refuses to start without it.`,
    );
  // Parallelism comes from running tasks side by side; libvips threads per image share the rest.
  configureSharp({ parallelTasks: config.worker.concurrency });
  const embedded = config.s3.endpoint ? undefined : await startEmbeddedS3(config.embedded);
  const store = new S3Store({
    ...config.s3,
    endpoint: embedded?.endpoint ?? config.s3.endpoint,
    ...(embedded ? EMBEDDED_CREDENTIALS : {}),
  });
  await store.ensureBucket(config.buckets.input);
  await store.ensureBucket(config.buckets.output);

  // Job history in the data folder: it survives restarts (serve after demo lists the demo's jobs).
  const jobs =
    overrides.jobs ??
    SqliteJobStore.inDataDir(config.embedded.dataDir, {
      retentionMs: config.jobRetentionMs,
    });
  const orchestrator = new Orchestrator({
    config,
    store,
    jobs,
    workflows: overrides.workflows ?? WORKFLOWS,
    log,
    ...(overrides.onJobEnded ? { onJobEnded: overrides.onJobEnded } : {}),
  });
  const hooks = runnerHooks({
    config,
    log,
    store,
    jobs,
    orchestrator,
    handlers: overrides.handlers ?? HANDLERS,
  });
  const runner =
    overrides.runner?.(hooks) ??
    new InProcessRunner(hooks, {
      concurrency: config.worker.concurrency,
      retry: taskRetry(config),
      onError: (error) => log.error({ err: error }, 'runner error'),
    });
  orchestrator.attach(runner);

  return {
    config,
    log,
    store,
    jobs,
    orchestrator,
    runner,
    embedded,
    binaries,
    capabilities,
    async close() {
      await runner.close();
      await jobs.close();
      if (store instanceof S3Store) store.destroy();
      await embedded?.close();
    },
  };
}

/** The hooks every runner calls: run a task against storage, record its state, continue the job. */
export function runnerHooks(deps: {
  config: Config;
  log: Logger;
  store: ObjectStore;
  jobs: JobStore;
  orchestrator: Orchestrator;
  handlers: ReadonlyMap<string, AnyTaskHandler>;
}): RunnerHooks {
  const { config, log, store, jobs, orchestrator, handlers } = deps;
  return {
    async execute(jobId, task, signal, onProgress) {
      const job = await jobs.get(jobId);
      // Its record is gone (deleted, expired): no retry can bring it back.
      if (!job) throw new MediaflowError('JOB_NOT_FOUND', `job ${jobId} not found`);
      // A task queued just before its job was cancelled or failed must not run against deleted
      // scratch.
      if (job.error || isFinal(job.state))
        throw new MediaflowError('CANCELLED', `job ${jobId} has ended`);
      return executeTask(
        job.spec,
        task,
        {
          handlers,
          store,
          config,
          log: log.child({ jobId, taskId: task.id }),
          recordWrite: (key) => jobs.recordWrites(jobId, [key]),
        },
        signal,
        onProgress,
      );
    },
    taskChanged: (jobId, taskId, status) => jobs.setTask(jobId, taskId, status),
    taskProgress: (jobId, taskId, fraction) => jobs.setTaskProgress(jobId, taskId, fraction),
    stageDone: (jobId, stage, results) => orchestrator.stageDone(jobId, stage, results),
    stageFailed: (jobId, stage, taskId, error) =>
      orchestrator.stageFailed(jobId, stage, taskId, error),
  };
}
