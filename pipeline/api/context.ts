import type { FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import type { WorkerInfo } from '../runner/worker-registry.js';
import type { ScheduleView } from '../schedules/port.js';
import type { ConsumerSnapshot } from '../triggers/consumer-status.js';
import type { BearerAuth } from './auth.js';
import type { JobOwners } from './job-owners.js';
import type { IdempotencyStore } from './idempotency.js';
import type { ApiMetrics } from './metrics.js';
import type { EventStream } from './sse.js';

/** A named dependency check for /readyz; throws (or rejects) when the dependency is down. */
export type ReadinessCheck = () => Promise<void>;

/** What every route group gets: the app, the resolved options, and the server's shared parts. */
export interface ApiContext {
  app: App;
  auth: BearerAuth;
  webhookAuth: BearerAuth;
  /** Which principals submitted each job (they, and admins, may see it). */
  owners: JobOwners;
  idempotency: IdempotencyStore;
  metrics: ApiMetrics;
  /** Open SSE streams, ended when the server closes so shutdown does not wait on them. */
  streams: Set<EventStream>;
  maxBatchItems: number;
  readiness: Record<string, ReadinessCheck>;
  /** The broker consumers' state and counts (shown by /readyz, never failing it). */
  consumers: () => ConsumerSnapshot[];
  /**
   * The live workers: from their heartbeats in distributed mode, this process in embedded mode.
   * Throws QUEUE_UNAVAILABLE when Redis is away.
   */
  workers: () => Promise<WorkerInfo[]>;
  /** The schedules with their last and next runs (none unless `serve` runs a scheduler). */
  schedules: () => Promise<ScheduleView[]>;
  /** Registers a principal's per-batch webhook for jobs; absent when no notifier is wired. */
  subscribe:
    | ((jobIds: string[], webhookUrl: string, principal: string) => Promise<void>)
    | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The caller's non-secret id (which API key, or `local` without keys); set by the auth hook.
     */
    principal: string;
    /** Holds an admin key (MEDIAFLOW_ADMIN_KEYS), or the API runs without keys. */
    admin: boolean;
  }
}

export function principalOf(request: FastifyRequest): string {
  return request.principal || 'anonymous';
}
