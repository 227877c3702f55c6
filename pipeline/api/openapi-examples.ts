import type { z } from 'zod';
import type {
  errorBodySchema,
  jobPageSchema,
  jobViewSchema,
  submitBodySchema,
  submitResponseSchema,
} from './schemas.js';

type Json = Record<string, unknown>;

/**
 * Examples for the OpenAPI document: what a client sends and gets back, for /docs and for
 * generated clients' docs. Typed with the schemas' own types, so a changed schema breaks the
 * build here; Spectral checks them against the document's schemas too (openapi-lint.test.ts).
 */
const JOB_ID = 'j3f9c2b7d14e5a6b8c9d0e1f2';
const CREATED = '2026-12-05T09:12:03.114Z';

const submitRequest: z.input<typeof submitBodySchema> = {
  items: [{ bucket: 'media-in', key: 'uploads/holiday.mp4' }],
  preset: 'video',
  webhookUrl: 'https://hooks.example.com/mediaflow',
};

const submitted: z.output<typeof submitResponseSchema> = {
  jobIds: [JOB_ID],
  items: [
    {
      bucket: 'media-in',
      key: 'uploads/holiday.mp4',
      status: 'created',
      jobId: JOB_ID,
      preset: 'video',
      state: 'queued',
    },
  ],
};

const source = {
  bucket: 'media-in',
  key: 'uploads/holiday.mp4',
  etag: '"9b2cf535f27731c974343645a3985328"',
  size: 48_213_377,
  contentType: 'video/mp4',
};

const jobView: z.output<typeof jobViewSchema> = {
  id: JOB_ID,
  state: 'running',
  progress: 0.42,
  preset: 'video',
  source,
  createdAt: CREATED,
  updatedAt: '2026-12-05T09:12:31.870Z',
  currentStage: 'stage 3/5: transcode×6, audio, thumbnails',
  etaSeconds: 38,
  stage: 3,
  tasks: [
    {
      id: 'probe',
      kind: 'probe',
      state: 'succeeded',
      progress: 1,
      attempts: 1,
      stage: 1,
      startedAt: '2026-12-05T09:12:03.402Z',
      endedAt: '2026-12-05T09:12:04.019Z',
    },
    {
      id: 'transcode-0003',
      kind: 'transcode',
      state: 'running',
      progress: 0.35,
      attempts: 1,
      stage: 3,
      startedAt: '2026-12-05T09:12:09.551Z',
    },
  ],
  outputBucket: 'media-out',
  outputPrefix: `uploads/holiday.mp4/video/${JOB_ID}/`,
  outputs: [],
};

const jobPage: z.output<typeof jobPageSchema> = {
  jobs: [
    {
      id: JOB_ID,
      state: 'failed',
      progress: 0.1,
      preset: 'video',
      source,
      createdAt: CREATED,
      updatedAt: '2026-12-05T09:12:05.200Z',
      error: {
        code: 'MEDIA_UNREADABLE',
        message: 'ffprobe could not read the file: moov atom not found',
        retryable: false,
      },
    },
  ],
  nextCursor: null,
};

const errors: Record<string, z.output<typeof errorBodySchema>> = {
  400: {
    error: {
      code: 'REQUEST_INVALID',
      message: 'The request body is not valid',
      issues: [
        { path: 'items.0.key', message: 'Expected a string for items.0.key but received 7' },
      ],
      requestId: 'req-1f',
    },
  },
  401: {
    error: {
      code: 'UNAUTHORIZED',
      message: 'A bearer token is required (Authorization: Bearer <token>)',
    },
  },
  404: { error: { code: 'NOT_FOUND', message: 'No such route or output' } },
  409: {
    error: {
      code: 'JOB_STATE_CONFLICT',
      message: `Job ${JOB_ID} is running; only a failed or cancelled job can be retried`,
    },
  },
  413: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'At most 1000 items per batch' } },
  416: { error: { code: 'RANGE_NOT_SATISFIABLE', message: 'The range starts past the end' } },
  429: { error: { code: 'RATE_LIMITED', message: 'Too many requests; retry in 12 s' } },
};

/** Request and response examples by operation ("post /v1/jobs") and status. */
const BY_OPERATION: Record<string, { request?: unknown; responses: Record<string, unknown> }> = {
  'post /v1/jobs': {
    request: submitRequest,
    responses: {
      202: submitted,
      409: {
        error: {
          code: 'IDEMPOTENCY_CONFLICT',
          message: 'This Idempotency-Key was used with another body',
        },
      },
    },
  },
  'get /v1/jobs': { responses: { 200: jobPage } },
  'get /v1/workers': {
    responses: {
      403: {
        error: {
          code: 'FORBIDDEN',
          message: 'Only an admin key (MEDIAFLOW_ADMIN_KEYS) lists workers',
        },
      },
      503: {
        error: { code: 'QUEUE_UNAVAILABLE', message: 'Redis does not answer', retryable: true },
      },
    },
  },
  'get /v1/jobs/{id}': { responses: { 200: jobView } },
  'delete /v1/jobs/{id}': { responses: { 200: { ...jobView, state: 'cancelled' } } },
  'post /v1/jobs/{id}/retry': { responses: { 202: { ...jobView, state: 'queued' } } },
};

const jobNotFound = { error: { code: 'JOB_NOT_FOUND', message: `No job ${JOB_ID}` } };

/** Sets `example` on a JSON media type that has none. */
function exampleOn(body: Json | undefined, example: unknown): void {
  if (example === undefined) return;
  const media = (body?.content as Record<string, Json> | undefined)?.['application/json'];
  if (media && media.example === undefined) media.example = example;
}

/** Adds the examples above, and one to every JSON error response of those statuses, in place. */
export function addExamples(paths: Record<string, Record<string, Json>>): void {
  for (const [route, item] of Object.entries(paths))
    for (const [method, op] of Object.entries(item)) {
      const responses = (op.responses ?? {}) as Record<string, Json>;
      const examples = BY_OPERATION[`${method} ${route}`];
      if (examples?.request !== undefined) exampleOn(op.requestBody as Json, examples.request);
      for (const [status, response] of Object.entries(responses)) {
        const error = status === '404' && route.includes('{id}') ? jobNotFound : errors[status];
        exampleOn(response, examples?.responses[status] ?? error);
      }
    }
}
