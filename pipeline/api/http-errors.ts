import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ERROR_CODES,
  MediaflowError,
  isErrorCode,
  toErrorRecord,
  type ErrorCode,
} from '../../functions/errors.js';

/**
 * Codes that exist only at the HTTP edge. Unlike `ERROR_CODES` (functions/errors.ts), these are
 * never stored on a job or sent over a queue: they describe a request, not work. Keeping them
 * apart keeps the job-error registry small; every code an API response can carry is one of the two.
 */
export const HTTP_ERROR_CODES = {
  UNAUTHORIZED: { status: 401, summary: 'A valid bearer token is required.' },
  FORBIDDEN: { status: 403, summary: 'The request is not allowed from here.' },
  NOT_FOUND: { status: 404, summary: 'No such route or output.' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'The route does not accept this method.' },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    summary:
      'The Idempotency-Key was used with a different body, or its first request is still running.',
  },
  JOB_STATE_CONFLICT: {
    status: 409,
    summary: 'The job is not in a state that allows this operation.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    summary: 'Too many items in a batch, or a body over the size limit.',
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The body must be application/json.' },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    summary: 'The requested byte range is outside the object.',
  },
  RATE_LIMITED: { status: 429, summary: 'Too many requests; wait for Retry-After seconds.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;
export type ApiErrorCode = ErrorCode | HttpErrorCode;

/** The body of every error response: `{ error: { code, message, ... } }`. */
export interface ApiErrorBody {
  error: {
    code: ApiErrorCode;
    message: string;
    retryable?: boolean;
    issues?: ValidationIssue[];
    stderrTail?: string;
    requestId?: string;
  };
}

/** One failed field: where (dotted path) and what was expected, plus the sentence for humans. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** An error raised at the HTTP edge with an HTTP-only code (see `HTTP_ERROR_CODES`). */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = HTTP_ERROR_CODES[code].status;
  }
}

/** A 400 REQUEST_INVALID carrying each failed field, so clients can point at the exact input. */
export class RequestValidationError extends MediaflowError {
  constructor(readonly issues: ValidationIssue[]) {
    super('REQUEST_INVALID', issues.map((i) => i.message).join('; '));
  }
}

export function statusOf(code: ApiErrorCode): number {
  return isErrorCode(code) ? ERROR_CODES[code].status : HTTP_ERROR_CODES[code].status;
}

/**
 * Maps anything thrown in a route to `{ error: { code, message } }` with the code's status:
 * mediaflow errors keep their code; fastify's own errors (bad JSON, body too large, wrong content
 * type) get the matching code; anything else is a 500 whose message is logged, not sent, since it
 * may describe internals.
 */
export function installErrorHandling(server: FastifyInstance): void {
  server.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const body = toErrorBody(error, request);
    const status = statusOf(body.error.code);
    if (status >= 500) request.log.error({ err: toErrorRecord(error) }, 'request failed');
    if (error instanceof ApiError)
      for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
    return reply.code(status).type('application/json').send(body);
  });
  server.setNotFoundHandler((request, reply) => {
    const body: ApiErrorBody = {
      error: {
        code: 'NOT_FOUND',
        message: `No route ${request.method} ${request.url.split('?')[0]}`,
      },
    };
    return reply.code(404).send(body);
  });
}

/** Sends an error response from a route or hook without throwing (for SSE and streaming paths). */
export function sendError(reply: FastifyReply, code: ApiErrorCode, message: string): FastifyReply {
  return reply
    .code(statusOf(code))
    .type('application/json')
    .send({ error: { code, message } } satisfies ApiErrorBody);
}

function toErrorBody(error: unknown, request: FastifyRequest): ApiErrorBody {
  if (error instanceof ApiError) return { error: { code: error.code, message: error.message } };
  if (error instanceof RequestValidationError)
    return { error: { code: 'REQUEST_INVALID', message: error.message, issues: error.issues } };
  const fastifyCode = (error as { code?: unknown }).code;
  switch (fastifyCode) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        error: {
          code: 'REQUEST_INVALID',
          message: `Expected a JSON body but received invalid JSON: ${(error as Error).message}`,
        },
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { error: { code: 'PAYLOAD_TOO_LARGE', message: (error as Error).message } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        error: {
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message:
            `Expected Content-Type application/json but received ` +
            `${JSON.stringify(request.headers['content-type'] ?? '')}`,
        },
      };
  }
  const record = toErrorRecord(error);
  // A recognised 4xx from fastify (e.g. a malformed URL) without one of our codes is the client's
  // fault.
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (
    record.code === 'INTERNAL' &&
    typeof statusCode === 'number' &&
    statusCode >= 400 &&
    statusCode < 500
  ) {
    return { error: { code: 'REQUEST_INVALID', message: record.message } };
  }
  if (record.code === 'INTERNAL')
    return {
      error: {
        code: 'INTERNAL',
        message: `An unexpected error occurred (request ${request.id})`,
        retryable: true,
        requestId: String(request.id),
      },
    };
  return { error: { ...record } };
}
