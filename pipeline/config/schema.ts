import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * Every setting mediaflow reads, keyed by its environment variable. Keeping the variable names as
 * the schema's keys means a validation error names exactly the variable to fix, and the deployment
 * files (compose, Kubernetes) can be checked against this list.
 *
 * Defaults make the embedded mode work with nothing set.
 */
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const port = nonNegativeInt.max(65535);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const bucketName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)',
  );

/** A URL with one of the given schemes, so a typo'd broker address fails at start-up. */
function brokerUrl(schemes: string[]) {
  return z
    .string()
    .url()
    .refine(
      (v) => schemes.includes(new URL(v).protocol),
      `a URL starting ${schemes.join(' or ')}//`,
    );
}

export const envSchema = z.object({
  /**
   * Redis for BullMQ and the job store; unset means the in-process runner and a SQLite job store
   * in MEDIAFLOW_DATA_DIR.
   */
  REDIS_URL: z.string().url().optional(),
  /** An external S3-protocol endpoint (MinIO, AWS); unset means the embedded s3rver. */
  MEDIAFLOW_S3_ENDPOINT: z.string().url().optional(),
  MEDIAFLOW_S3_REGION: z.string().min(1).default('us-east-1'),
  MEDIAFLOW_S3_ACCESS_KEY_ID: z.string().min(1).default('S3RVER'),
  MEDIAFLOW_S3_SECRET_ACCESS_KEY: z.string().min(1).default('S3RVER'),
  /** Path-style addressing (bucket in the path) is what MinIO and s3rver expect. */
  MEDIAFLOW_S3_FORCE_PATH_STYLE: bool.default(true),
  /**
   * Where uploads arrive: one bucket, or a comma list. The first gets the storage events and the
   * demo's uploads; a batch may name any of them, and no other.
   */
  MEDIAFLOW_INPUT_BUCKET: z
    .string()
    .default('mediaflow-input')
    .transform((v) =>
      v
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    )
    .pipe(z.array(bucketName).min(1, 'at least one bucket')),
  MEDIAFLOW_OUTPUT_BUCKET: bucketName.default('mediaflow-output'),
  /** Where outputs go inside the output bucket; events under it never trigger jobs. */
  MEDIAFLOW_OUTPUT_PREFIX: z.string().default(''),
  /** The embedded store's data folder. */
  MEDIAFLOW_DATA_DIR: z.string().min(1).default('.mediaflow'),
  /**
   * The embedded store's port: fixed by default (s3rver's own 4568), so S3 clients configured once
   * keep working across restarts; 0 picks a free one (the tests do).
   */
  MEDIAFLOW_EMBEDDED_S3_PORT: port.default(4568),
  /** Local scratch space for media functions (one private folder per task). */
  MEDIAFLOW_SCRATCH_DIR: z.string().min(1).default(path.join(os.tmpdir(), 'mediaflow')),
  /** Tasks run at once per process (p-queue) or per worker (BullMQ). */
  MEDIAFLOW_WORKER_CONCURRENCY: positiveInt.default(os.availableParallelism()),
  MEDIAFLOW_TASK_ATTEMPTS: positiveInt.default(3),
  MEDIAFLOW_TASK_BACKOFF_MS: positiveInt.default(1000),
  /** Hard limit for one media process; a hung ffmpeg is killed with its process group. */
  MEDIAFLOW_PROCESS_TIMEOUT_S: positiveInt.default(1800),
  /** Grace period for a worker on SIGTERM before running tasks are released. */
  MEDIAFLOW_SHUTDOWN_GRACE_S: positiveInt.default(30),
  /**
   * How often a worker writes its heartbeat (host, tasks, versions) to Redis; an entry not
   * renewed for three periods is gone, so a killed worker leaves the Workers page by itself.
   */
  MEDIAFLOW_HEARTBEAT_S: positiveInt.default(5),
  MEDIAFLOW_SEGMENT_SECONDS: positiveInt.default(6),
  MEDIAFLOW_MAX_SEGMENTS: positiveInt.default(200),
  MEDIAFLOW_MAX_INPUT_BYTES: positiveInt.default(10 * 1024 ** 3),
  MEDIAFLOW_MAX_DURATION_S: positiveInt.default(4 * 3600),
  MEDIAFLOW_MAX_PIXELS: positiveInt.default(8192 * 8192),
  MEDIAFLOW_MAX_FPS: positiveInt.default(240),
  MEDIAFLOW_MAX_STREAMS: positiveInt.default(16),
  MEDIAFLOW_MAX_IMAGE_FRAMES: positiveInt.default(500),
  /** EBU R128 integrated loudness target for audio outputs, in LUFS. */
  MEDIAFLOW_LOUDNESS_LUFS: z.coerce.number().min(-70).max(-5).default(-16),
  MEDIAFLOW_HOST: z.string().min(1).default('127.0.0.1'),
  MEDIAFLOW_PORT: port.default(8080),
  /** Bearer tokens accepted by the API; empty means the API listens on loopback only. */
  MEDIAFLOW_API_KEYS: csv.default([]),
  /** Bearer token that storage webhooks (MinIO, a relay of S3 notifications) must present. */
  MEDIAFLOW_WEBHOOK_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** CloudEvents about jobs are POSTed here, signed with MEDIAFLOW_NOTIFY_SECRET. */
  MEDIAFLOW_NOTIFY_URLS: csv.default([]),
  MEDIAFLOW_NOTIFY_SECRET: z.string().optional(),
  /**
   * Also listen to MinIO's bucket notifications (its listen API) besides the webhook; MinIO only.
   */
  MEDIAFLOW_MINIO_LISTEN: bool.default(false),
  /**
   * Every this many seconds the input bucket is swept for sources without a finished job; 0 turns
   * it off.
   */
  MEDIAFLOW_SWEEP_INTERVAL_S: nonNegativeInt.default(0),
  // Message-queue triggers (one consumer each per serve process; an unset URL turns it off).
  /** An AMQP 0-9-1 broker (RabbitMQ), e.g. `amqp://user:pass@host:5672/vhost`. */
  MEDIAFLOW_AMQP_URL: brokerUrl(['amqp:', 'amqps:']).optional(),
  /** The durable queue consumed; its dead-letter exchange and queue are `<queue>.dead-letter`. */
  MEDIAFLOW_AMQP_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'a queue name (letters, digits, _ . : -)')
    .default('mediaflow-events'),
  /** A NATS server with JetStream, e.g. `nats://host:4222`. */
  MEDIAFLOW_NATS_URL: brokerUrl(['nats:', 'tls:']).optional(),
  /** The subject, without wildcards; malformed messages go to `<subject>.dead-letter`. */
  MEDIAFLOW_NATS_SUBJECT: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a NATS subject without wildcards')
    .default('mediaflow.events'),
  /** An MQTT 5 broker, e.g. `mqtt://host:1883` (or `mqtts:`). */
  MEDIAFLOW_MQTT_URL: brokerUrl(['mqtt:', 'mqtts:', 'ws:', 'wss:']).optional(),
  /** The topic, without wildcards; malformed messages are republished to `<topic>/dead-letter`. */
  MEDIAFLOW_MQTT_TOPIC: z
    .string()
    .regex(/^[^#+]+$/, 'an MQTT topic without wildcards')
    .default('mediaflow/events'),
  /**
   * The MQTT client id; the broker keeps its session (subscription, unacknowledged messages)
   * while the process is away, so it must be stable across restarts and unique per process.
   * Default `mediaflow-<hostname>-<MEDIAFLOW_PORT>`.
   */
  MEDIAFLOW_MQTT_CLIENT_ID: z.string().min(1).max(128).optional(),
  /** Messages a consumer holds unacknowledged at once (AMQP prefetch; JetStream, MQTT alike). */
  MEDIAFLOW_CONSUMER_PREFETCH: positiveInt.max(1000).default(16),
  MEDIAFLOW_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('mediaflow'),
  MEDIAFLOW_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  /**
   * A YAML or JSON file of presets (overriding built-ins by name), routes from uploads to presets,
   * and schedules; validated at start-up, re-read on SIGHUP by `serve`.
   */
  MEDIAFLOW_PRESETS_FILE: z.string().min(1).optional(),
  /** Use a system ffmpeg/ffprobe (e.g. Debian's) instead of the bundled static build. */
  FFMPEG_PATH: z.string().min(1).optional(),
  // Sizing chunked video work to the machine (issue 13).
  /**
   * Task slots across every worker that shares the queue, for sizing pieces: a video becomes about
   * three pieces per slot (never shorter than MEDIAFLOW_SEGMENT_SECONDS). Unset: this process's
   * MEDIAFLOW_WORKER_CONCURRENCY.
   */
  MEDIAFLOW_TASK_SLOTS: positiveInt.optional(),
  /**
   * Seconds of the previous piece each video piece encodes and drops, so rate control is warm at
   * the join (see functions/video/seam-preroll.ts); 0 turns it off.
   */
  MEDIAFLOW_PREROLL_SECONDS: z.coerce.number().min(0).max(10).default(1),
  FFPROBE_PATH: z.string().min(1).optional(),
  // Recovery and durability (issue 11).
  /**
   * How often `serve` looks for open jobs with no activity for MEDIAFLOW_WATCHDOG_GRACE_S and
   * re-drives (or, when the queue gave up on them, fails) them; 0 turns the watchdog off.
   */
  MEDIAFLOW_WATCHDOG_INTERVAL_S: nonNegativeInt.default(30),
  MEDIAFLOW_WATCHDOG_GRACE_S: positiveInt.default(120),
  /**
   * Days a finished job (succeeded, failed, cancelled) is kept in the job store, with its tasks,
   * results, recorded writes and owners; 0 keeps every job forever. Open jobs never expire, and a
   * retry clears the expiry. Outputs in storage are not touched. In distributed mode Redis needs
   * `noeviction` (BullMQ), so without retention a full Redis stops everything.
   */
  MEDIAFLOW_JOB_RETENTION_DAYS: z.coerce.number().min(0).default(30),
  /**
   * Storage: time to get a connection (including a wait for a free one of the pool of 128), and
   * time until a response starts or any pause of data after. Each of the SDK's 3 attempts has them.
   */
  MEDIAFLOW_S3_CONNECT_TIMEOUT_MS: positiveInt.default(10_000),
  MEDIAFLOW_S3_REQUEST_TIMEOUT_MS: positiveInt.default(20_000),
  /**
   * How long a task retries storage and Redis outage errors without spending its attempts
   * (backoff with jitter, at most 10 s apart), counted from the first; 0 turns it off.
   */
  MEDIAFLOW_OUTAGE_BUDGET_S: nonNegativeInt.default(120),
  /** Event streams (SSE) one API key may hold open at once, per serve process; 429 beyond. */
  MEDIAFLOW_SSE_STREAMS_PER_KEY: positiveInt.default(16),
  // ---- Untrusted uploads: the media tools (issue 12) ----
  /**
   * Run an ffmpeg/ffprobe older than 4.4 (e.g. the bundled 2018 build) with a warning instead of
   * refusing to start. For trusted input only.
   */
  MEDIAFLOW_FFMPEG_ALLOW_OUTDATED: bool.default(false),
  /**
   * Where what start-up finds out about ffmpeg/ffprobe is kept for the next process (keyed by the
   * binaries' files, see functions/ffmpeg/tool-cache.ts). Default `$XDG_CACHE_HOME/mediaflow`,
   * else `~/.cache/mediaflow`; `off` finds out anew at every start.
   */
  MEDIAFLOW_TOOL_CACHE_DIR: z.string().min(1).optional(),
  /**
   * Keys (`name:token` or bare, like MEDIAFLOW_API_KEYS) whose holders see and manage every job,
   * bucket-event jobs included. Other keys see only the jobs they submitted.
   */
  MEDIAFLOW_ADMIN_KEYS: csv.default([]),
  /**
   * Let per-batch webhookUrls reach loopback, private, link-local and similar addresses. For local
   * development only: otherwise any API caller could make mediaflow POST into your network.
   */
  MEDIAFLOW_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /**
   * Per-batch webhook attempts (retries included) one API principal may start per minute: a batch
   * of a thousand jobs pointed at a failing URL is paced, not an amplifier.
   */
  MEDIAFLOW_WEBHOOK_DELIVERIES_PER_MINUTE: positiveInt.default(120),
  /** Per-batch webhook deliveries one principal may have waiting; more are dropped and logged. */
  MEDIAFLOW_WEBHOOK_QUEUE_PER_KEY: positiveInt.default(2000),
  /**
   * Media processes in a bubblewrap sandbox (no network, read-only system, scratch the only
   * writable place): `auto` where the host allows it, `required` to refuse to start without.
   */
  MEDIAFLOW_SANDBOX: z.enum(['auto', 'required', 'off']).default('auto'),
  /** Address-space limit of one media process, in MiB. */
  MEDIAFLOW_MEDIA_MEMORY_MB: positiveInt.default(8192),
  /** Largest file one media process may write, in MiB. */
  MEDIAFLOW_MEDIA_FILE_MB: positiveInt.default(20480),
});

export type Env = z.infer<typeof envSchema>;
export const ENV_VARS = Object.keys(envSchema.shape) as (keyof Env)[];
