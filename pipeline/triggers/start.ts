import type { App } from '../app.js';
import { listenToEmbeddedEvents } from './embedded-events.js';
import { startMinioListener } from './minio-listen.js';
import type { EventOutcome } from './submit-events.js';
import { startSweep, type SweepReport } from './sweep.js';

export interface TriggerOptions {
  /**
   * Listen to MinIO's bucket notifications (MinIO only; AWS and s3rver lack the API); default
   * MEDIAFLOW_MINIO_LISTEN.
   */
  minioListen?: boolean;
  /** Sweep the input bucket every this many ms; default MEDIAFLOW_SWEEP_INTERVAL_S, 0 is off. */
  sweepIntervalMs?: number;
  onOutcome?: (outcome: EventOutcome) => void;
  onSweep?: (report: SweepReport) => void;
}

/**
 * Starts the upload triggers a `mediaflow serve` process runs besides the webhook route: the
 * embedded store's events (embedded mode), MinIO's listen API (when asked) and the
 * reconciliation sweep (when an interval is set). Every one ends in the orchestrator's idempotent
 * submit, so running several serve processes, or several triggers for one upload, gives one job.
 * Returns a function that stops them all.
 */
export function startTriggers(app: App, options: TriggerOptions = {}): () => Promise<void> {
  const { config, orchestrator, log } = app;
  const stops: (() => void | Promise<void>)[] = [];
  if (app.embedded)
    stops.push(
      listenToEmbeddedEvents(
        app.embedded,
        orchestrator,
        config.buckets.input,
        log,
        options.onOutcome,
      ),
    );
  if (options.minioListen ?? config.minioListen)
    stops.push(startMinioListener(config, orchestrator, log, options.onOutcome));
  const interval = options.sweepIntervalMs ?? config.sweepIntervalMs;
  if (interval > 0)
    stops.push(
      startSweep(
        { store: app.store, orchestrator, inputBucket: config.buckets.input, log },
        interval,
        options.onSweep,
      ),
    );
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
