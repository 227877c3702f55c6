import type { App } from '../app.js';
import { startAmqpConsumer } from './amqp-consumer.js';
import type { ConsumerSnapshot } from './consumer-status.js';
import { listenToEmbeddedEvents } from './embedded-events.js';
import { startMinioListener } from './minio-listen.js';
import { startMqttConsumer } from './mqtt-consumer.js';
import { startNatsConsumer } from './nats-consumer.js';
import type { TriggerConsumer } from './reconnect.js';
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

export interface RunningTriggers {
  /** The broker consumers' state and counts, for /readyz and /metrics. */
  consumers(): ConsumerSnapshot[];
  stop(): Promise<void>;
}

/**
 * Starts the triggers a `mediaflow serve` process runs besides the webhook route: the embedded
 * store's events (embedded mode), MinIO's listen API (when asked), the reconciliation sweep (when
 * an interval is set) and one consumer per configured broker (AMQP, NATS JetStream, MQTT). Every
 * one ends in the trigger port (`submitStorageEvents`) and the orchestrator's idempotent submit,
 * so several serve processes, or several triggers for one upload, give one job.
 */
export function startTriggers(app: App, options: TriggerOptions = {}): RunningTriggers {
  const { config, orchestrator, log } = app;
  const stops: (() => void | Promise<void>)[] = [];
  const consumers: TriggerConsumer[] = [];
  const deliveryDeps = {
    orchestrator,
    inputBucket: config.buckets.input,
    log,
    ...(options.onOutcome ? { onOutcome: options.onOutcome } : {}),
  };
  const { amqp, nats, mqtt, prefetch } = config.consumers;
  if (amqp) consumers.push(startAmqpConsumer(deliveryDeps, { ...amqp, prefetch }));
  if (nats) consumers.push(startNatsConsumer(deliveryDeps, { ...nats, prefetch }));
  if (mqtt) consumers.push(startMqttConsumer(deliveryDeps, { ...mqtt, prefetch }));
  for (const consumer of consumers) stops.push(() => consumer.stop());
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
  return {
    consumers: () => consumers.map((c) => c.status.snapshot()),
    async stop() {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
