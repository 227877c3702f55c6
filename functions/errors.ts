/**
 * The one registry of mediaflow's error codes.
 *
 * Errors cross process boundaries (BullMQ workers, the HTTP API, job records), so callers branch
 * on `code` and `retryable`, never on `instanceof`. A permanent error (bad media, a bad request)
 * fails its job at once without spending retries; a retryable one (storage or Redis briefly away)
 * is retried with backoff.
 */
export const ERROR_CODES = {
  MEDIA_EMPTY: { retryable: false, status: 422, summary: 'The source object has zero bytes.' },
  MEDIA_UNREADABLE: {
    retryable: false,
    status: 422,
    summary: 'The source is corrupt, truncated or not decodable.',
  },
  MEDIA_UNSUPPORTED: {
    retryable: false,
    status: 422,
    summary: 'The container, codec or image format is not allowed.',
  },
  MEDIA_REFUSED: {
    retryable: false,
    status: 422,
    summary:
      'The source is hostile or references other files (playlists, concat lists, SVG, ' +
      'untrusted loaders).',
  },
  MEDIA_LIMIT_EXCEEDED: {
    retryable: false,
    status: 422,
    summary:
      'The source exceeds a configured limit (bytes, duration, pixels, frames, frame rate, ' +
      'streams).',
  },
  FFMPEG_FAILED: {
    retryable: false,
    status: 500,
    summary: 'ffmpeg or ffprobe exited with an error while processing valid-looking input.',
  },
  PROCESS_TIMEOUT: {
    retryable: false,
    status: 500,
    summary: 'A media process ran past its time limit and was killed.',
  },
  BINARY_MISSING: {
    retryable: false,
    status: 500,
    summary: 'ffmpeg or ffprobe cannot be found or does not run.',
  },
  BINARY_OUTDATED: {
    retryable: false,
    status: 500,
    summary: 'ffmpeg or ffprobe is older than the minimum version mediaflow trusts with uploads.',
  },
  CAPABILITY_MISSING: {
    retryable: false,
    status: 500,
    summary: 'The ffmpeg in use lacks an encoder, decoder, filter or hardware a preset needs.',
  },
  SOURCE_NOT_FOUND: {
    retryable: false,
    status: 404,
    summary: 'The source object does not exist (or no longer exists).',
  },
  ASSET_NOT_FOUND: {
    retryable: false,
    status: 422,
    summary: 'An object the preset needs (a watermark logo or font) does not exist in storage.',
  },
  SOURCE_CHANGED: {
    retryable: false,
    status: 409,
    summary: 'The source object changed since the event was emitted (stale event).',
  },
  STORAGE_UNAVAILABLE: {
    retryable: true,
    status: 503,
    summary: 'Object storage failed or could not be reached.',
  },
  QUEUE_UNAVAILABLE: {
    retryable: true,
    status: 503,
    summary: 'Redis or the job queue could not be reached.',
  },
  CANCELLED: { retryable: false, status: 409, summary: 'The job was cancelled.' },
  EVENT_INVALID: { retryable: false, status: 400, summary: 'A storage event could not be parsed.' },
  REQUEST_INVALID: { retryable: false, status: 400, summary: 'An API request failed validation.' },
  PRESET_UNKNOWN: { retryable: false, status: 400, summary: 'No preset has that name.' },
  JOB_NOT_FOUND: { retryable: false, status: 404, summary: 'No job has that id.' },
  CONFIG_INVALID: {
    retryable: false,
    status: 500,
    summary: 'The configuration failed validation.',
  },
  TASK_STALLED: {
    retryable: false,
    status: 500,
    summary:
      'The workers running a task died or were killed too many times (the stall limit); the ' +
      'input may be what kills them (memory), so it is not retried on its own.',
  },
  JOB_STALLED: {
    retryable: true,
    status: 500,
    summary:
      'The job stopped making progress: the queue gave up on a stage without a result, and the ' +
      'watchdog ended it. Retrying it runs the stage again.',
  },
  INTERNAL: {
    retryable: true,
    status: 500,
    summary: 'An unexpected error; retried in case it was transient.',
  },
} as const satisfies Record<string, { retryable: boolean; status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The plain-data form of an error, as stored on jobs and sent over queues and HTTP. */
export interface ErrorRecord {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  /** The last lines ffmpeg/ffprobe wrote to stderr, when a media process failed. */
  stderrTail?: string;
}

export class MediaflowError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly stderrTail: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; stderrTail?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'MediaflowError';
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.stderrTail = options.stderrTail;
  }

  toRecord(): ErrorRecord {
    const record: ErrorRecord = {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    };
    if (this.stderrTail) record.stderrTail = this.stderrTail;
    return record;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * Turns anything thrown into an ErrorRecord. Errors that crossed a process boundary keep their
 * `code`; anything unknown becomes INTERNAL (retryable, since we cannot tell it is permanent).
 */
export function toErrorRecord(error: unknown): ErrorRecord {
  if (error instanceof MediaflowError) return error.toRecord();
  if (error && typeof error === 'object') {
    const { code, message, stderrTail } = error as {
      code?: unknown;
      message?: unknown;
      stderrTail?: unknown;
    };
    if (isErrorCode(code)) {
      const record: ErrorRecord = {
        code,
        message: String(message ?? code),
        retryable: ERROR_CODES[code].retryable,
      };
      if (typeof stderrTail === 'string' && stderrTail) record.stderrTail = stderrTail;
      return record;
    }
    if (error instanceof Error && error.name === 'AbortError') {
      return { code: 'CANCELLED', message: 'The job was cancelled.', retryable: false };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message, retryable: true };
}

/** Rebuilds a throwable error from its record (for errors that came back over a queue). */
export function fromErrorRecord(record: ErrorRecord): MediaflowError {
  const options = record.stderrTail ? { stderrTail: record.stderrTail } : {};
  return new MediaflowError(record.code, record.message, options);
}
