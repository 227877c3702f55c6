import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MediaflowError } from '../../functions/errors.js';
import { defaultToolCacheDir } from '../../functions/ffmpeg/tool-cache.js';
import type { ProbeLimits } from '../../functions/video/limits.js';
import { BUILTIN_CATALOG, type PresetCatalog } from '../presets/catalog.js';
import { loadPresetsFile } from '../presets/load-file.js';
import type { DeliveryLimits } from '../notify/delivery-limiter.js';
import { envSchema, type Env } from './schema.js';

/** The resolved, frozen configuration: no `undefined` for anything that has a default. */
export interface Config {
  mode: { storage: 'embedded' | 'external'; runner: 'in-process' | 'bullmq' };
  redisUrl: string | undefined;
  s3: {
    endpoint: string | undefined;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: boolean;
    connectTimeoutMs: number;
    requestTimeoutMs: number;
  };
  /** `input` is the first of `inputs` (MEDIAFLOW_INPUT_BUCKET may list several). */
  buckets: { input: string; inputs: string[]; output: string; outputPrefix: string };
  embedded: { dataDir: string; port: number };
  scratchDir: string;
  worker: {
    concurrency: number;
    attempts: number;
    backoffMs: number;
    processTimeoutMs: number;
    shutdownGraceMs: number;
    outageBudgetMs: number;
    heartbeatMs: number;
  };
  audio: {
    /** Integrated loudness target (LUFS) of audio presets that do not set their own. */
    loudnessLufs: number;
  };
  video: {
    segmentSeconds: number;
    maxSegments: number;
    /** Task slots across the fleet; pieces are sized to it (about three per slot). */
    taskSlots: number;
    /** Seconds of pre-roll per piece after the first (0: none). */
    prerollSeconds: number;
  };
  limits: MediaLimits;
  api: {
    host: string;
    port: number;
    apiKeys: string[];
    adminKeys: string[];
    webhookToken: string | undefined;
    sseStreamsPerKey: number;
  };
  notify: {
    urls: string[];
    secret: string | undefined;
    /** Per-batch webhookUrls may resolve to loopback/private addresses (local development). */
    allowPrivate: boolean;
    /** How fast, and how many at once, one principal's per-batch webhooks are delivered. */
    perPrincipal: DeliveryLimits;
  };
  sweepIntervalMs: number;
  /** How long finished jobs are kept (MEDIAFLOW_JOB_RETENTION_DAYS); 0 keeps them forever. */
  jobRetentionMs: number;
  watchdog: { intervalMs: number; graceMs: number };
  minioListen: boolean;
  /** Message-queue triggers; each is off while its URL is unset. */
  consumers: {
    amqp: { url: string; queue: string } | undefined;
    nats: { url: string; subject: string } | undefined;
    mqtt: { url: string; topic: string; clientId: string } | undefined;
    prefetch: number;
  };
  queuePrefix: string;
  logLevel: Env['MEDIAFLOW_LOG_LEVEL'];
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  /** Presets (built-ins plus MEDIAFLOW_PRESETS_FILE), routes and schedules. */
  catalog: PresetCatalog;
  ffmpegAllowOutdated: boolean;
  /** Where facts about the media binaries are kept between processes; undefined: nowhere. */
  toolCacheDir: string | undefined;
  /** How media processes are confined (see functions/ffmpeg/confine.ts). */
  media: {
    sandbox: 'auto' | 'required' | 'off';
    memoryBytes: number;
    fileSizeBytes: number;
  };
}

/** The limits the probe enforces, plus the image frame limit. */
export interface MediaLimits extends ProbeLimits {
  maxImageFrames: number;
}

/**
 * Reads the configuration from an environment (default `process.env`) and, if
 * `MEDIAFLOW_CONFIG_FILE` names one, a JSON file of the same variables; the environment wins.
 * An invalid value throws CONFIG_INVALID naming the variable and what was expected.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const fromFile = env.MEDIAFLOW_CONFIG_FILE ? readConfigFile(env.MEDIAFLOW_CONFIG_FILE) : {};
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') merged[name] = value;
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    // The variable's name only: an entry of a comma list (MEDIAFLOW_INPUT_BUCKET.1) is its value.
    const lines = parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
    throw new MediaflowError('CONFIG_INVALID', `Invalid configuration: ${lines.join('; ')}`);
  }
  return Object.freeze(resolve(parsed.data));
}

function readConfigFile(file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MediaflowError(
      'CONFIG_INVALID',
      `MEDIAFLOW_CONFIG_FILE: cannot read ${file}: ${(error as Error).message}`,
    );
  }
  if (!data || typeof data !== 'object' || Array.isArray(data))
    throw new MediaflowError(
      'CONFIG_INVALID',
      `MEDIAFLOW_CONFIG_FILE: cannot read ${file}: expected a JSON object of variables`,
    );
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]),
  );
}

function resolve(env: Env): Config {
  return {
    mode: {
      storage: env.MEDIAFLOW_S3_ENDPOINT ? 'external' : 'embedded',
      runner: env.REDIS_URL ? 'bullmq' : 'in-process',
    },
    redisUrl: env.REDIS_URL,
    s3: {
      endpoint: env.MEDIAFLOW_S3_ENDPOINT,
      region: env.MEDIAFLOW_S3_REGION,
      accessKeyId: env.MEDIAFLOW_S3_ACCESS_KEY_ID,
      secretAccessKey: env.MEDIAFLOW_S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.MEDIAFLOW_S3_FORCE_PATH_STYLE,
      connectTimeoutMs: env.MEDIAFLOW_S3_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: env.MEDIAFLOW_S3_REQUEST_TIMEOUT_MS,
    },
    buckets: {
      input: env.MEDIAFLOW_INPUT_BUCKET[0]!,
      inputs: env.MEDIAFLOW_INPUT_BUCKET,
      output: env.MEDIAFLOW_OUTPUT_BUCKET,
      outputPrefix: normalisePrefix(env.MEDIAFLOW_OUTPUT_PREFIX),
    },
    embedded: {
      dataDir: path.resolve(env.MEDIAFLOW_DATA_DIR),
      port: env.MEDIAFLOW_EMBEDDED_S3_PORT,
    },
    scratchDir: path.resolve(env.MEDIAFLOW_SCRATCH_DIR),
    worker: {
      concurrency: env.MEDIAFLOW_WORKER_CONCURRENCY,
      attempts: env.MEDIAFLOW_TASK_ATTEMPTS,
      backoffMs: env.MEDIAFLOW_TASK_BACKOFF_MS,
      processTimeoutMs: env.MEDIAFLOW_PROCESS_TIMEOUT_S * 1000,
      shutdownGraceMs: env.MEDIAFLOW_SHUTDOWN_GRACE_S * 1000,
      outageBudgetMs: env.MEDIAFLOW_OUTAGE_BUDGET_S * 1000,
      heartbeatMs: env.MEDIAFLOW_HEARTBEAT_S * 1000,
    },
    audio: { loudnessLufs: env.MEDIAFLOW_LOUDNESS_LUFS },
    video: {
      segmentSeconds: env.MEDIAFLOW_SEGMENT_SECONDS,
      maxSegments: env.MEDIAFLOW_MAX_SEGMENTS,
      taskSlots: env.MEDIAFLOW_TASK_SLOTS ?? env.MEDIAFLOW_WORKER_CONCURRENCY,
      prerollSeconds: env.MEDIAFLOW_PREROLL_SECONDS,
    },
    limits: {
      maxInputBytes: env.MEDIAFLOW_MAX_INPUT_BYTES,
      maxDurationSeconds: env.MEDIAFLOW_MAX_DURATION_S,
      maxPixels: env.MEDIAFLOW_MAX_PIXELS,
      maxFps: env.MEDIAFLOW_MAX_FPS,
      maxStreams: env.MEDIAFLOW_MAX_STREAMS,
      maxImageFrames: env.MEDIAFLOW_MAX_IMAGE_FRAMES,
    },
    api: {
      host: env.MEDIAFLOW_HOST,
      port: env.MEDIAFLOW_PORT,
      apiKeys: env.MEDIAFLOW_API_KEYS,
      sseStreamsPerKey: env.MEDIAFLOW_SSE_STREAMS_PER_KEY,
      adminKeys: env.MEDIAFLOW_ADMIN_KEYS,
      webhookToken: env.MEDIAFLOW_WEBHOOK_TOKEN,
    },
    notify: {
      urls: env.MEDIAFLOW_NOTIFY_URLS,
      secret: env.MEDIAFLOW_NOTIFY_SECRET,
      allowPrivate: env.MEDIAFLOW_WEBHOOK_ALLOW_PRIVATE,
      perPrincipal: {
        perMinute: env.MEDIAFLOW_WEBHOOK_DELIVERIES_PER_MINUTE,
        // A minute's worth may go at once after a quiet spell, at most 4 in flight.
        burst: Math.min(env.MEDIAFLOW_WEBHOOK_DELIVERIES_PER_MINUTE, 60),
        maxInFlight: 4,
        maxQueued: env.MEDIAFLOW_WEBHOOK_QUEUE_PER_KEY,
      },
    },
    sweepIntervalMs: env.MEDIAFLOW_SWEEP_INTERVAL_S * 1000,
    jobRetentionMs: Math.round(env.MEDIAFLOW_JOB_RETENTION_DAYS * 24 * 3600 * 1000),
    watchdog: {
      intervalMs: env.MEDIAFLOW_WATCHDOG_INTERVAL_S * 1000,
      graceMs: env.MEDIAFLOW_WATCHDOG_GRACE_S * 1000,
    },
    minioListen: env.MEDIAFLOW_MINIO_LISTEN,
    consumers: {
      amqp: env.MEDIAFLOW_AMQP_URL
        ? { url: env.MEDIAFLOW_AMQP_URL, queue: env.MEDIAFLOW_AMQP_QUEUE }
        : undefined,
      nats: env.MEDIAFLOW_NATS_URL
        ? { url: env.MEDIAFLOW_NATS_URL, subject: env.MEDIAFLOW_NATS_SUBJECT }
        : undefined,
      mqtt: env.MEDIAFLOW_MQTT_URL
        ? {
            url: env.MEDIAFLOW_MQTT_URL,
            topic: env.MEDIAFLOW_MQTT_TOPIC,
            clientId:
              env.MEDIAFLOW_MQTT_CLIENT_ID ?? `mediaflow-${os.hostname()}-${env.MEDIAFLOW_PORT}`,
          }
        : undefined,
      prefetch: env.MEDIAFLOW_CONSUMER_PREFETCH,
    },
    queuePrefix: env.MEDIAFLOW_QUEUE_PREFIX,
    logLevel: env.MEDIAFLOW_LOG_LEVEL,
    ffmpegPath: env.FFMPEG_PATH,
    ffprobePath: env.FFPROBE_PATH,
    catalog: env.MEDIAFLOW_PRESETS_FILE
      ? loadPresetsFile(env.MEDIAFLOW_PRESETS_FILE)
      : BUILTIN_CATALOG,
    ffmpegAllowOutdated: env.MEDIAFLOW_FFMPEG_ALLOW_OUTDATED,
    toolCacheDir:
      env.MEDIAFLOW_TOOL_CACHE_DIR === 'off'
        ? undefined
        : (env.MEDIAFLOW_TOOL_CACHE_DIR ?? defaultToolCacheDir()),
    media: {
      sandbox: env.MEDIAFLOW_SANDBOX,
      memoryBytes: env.MEDIAFLOW_MEDIA_MEMORY_MB * 1024 * 1024,
      fileSizeBytes: env.MEDIAFLOW_MEDIA_FILE_MB * 1024 * 1024,
    },
  };
}

function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}

/** The runners' retry policy for tasks. */
export function taskRetry(config: Config): {
  attempts: number;
  backoffMs: number;
  outageBudgetMs: number;
} {
  return {
    attempts: config.worker.attempts,
    backoffMs: config.worker.backoffMs,
    outageBudgetMs: config.worker.outageBudgetMs,
  };
}
