import { z } from 'zod';
import { ERROR_CODES } from '../../functions/errors.js';
import { HTTP_ERROR_CODES } from './http-errors.js';
import { addExamples } from './openapi-examples.js';
import { addKeyedErrors, completeOperations } from './openapi-operations.js';
import { presetNamesText, presetPaths } from './openapi-presets.js';
import { overviewSchema } from './routes/overview.js';
import { schedulePaths } from './openapi-schedules.js';
import { workerPaths } from './openapi-workers.js';
import {
  errorBodySchema,
  healthSchema,
  jobPageSchema,
  jobViewSchema,
  listQuerySchema,
  submitBodySchema,
  submitResponseSchema,
} from './schemas.js';

type Json = Record<string, unknown>;

/** A zod schema as an OpenAPI 3.1 schema object (JSON Schema 2020-12, OpenAPI's own dialect). */
function schema(s: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

const json = (s: z.ZodType, io: 'input' | 'output' = 'output') => ({
  content: { 'application/json': { schema: schema(s, io) } },
});
const error = (description: string) => ({ description, ...json(errorBodySchema) });
const jobId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^j[0-9a-f]{24}$' },
  description: 'Job id, derived from the source version and preset.',
};
const common = {
  401: error('No or wrong API key (UNAUTHORIZED).'),
  429: error('Rate limited (RATE_LIMITED); see Retry-After.'),
};

/**
 * The OpenAPI document, generated from the same zod schemas the handlers validate with, so the
 * docs say what the server does. Served at /openapi.json and rendered at /docs.
 */
export function buildOpenApi(options: {
  maxBatchItems: number;
  version: string;
  /** The preset names in force, listed in the document. */
  presets?: readonly string[];
}): Json {
  const presets = options.presets ?? [];
  const listParams = Object.entries(
    (schema(listQuerySchema, 'input').properties ?? {}) as Record<string, Json>,
  ).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }));
  const codes = [...Object.entries(ERROR_CODES), ...Object.entries(HTTP_ERROR_CODES)]
    .map(([code, c]) => `| \`${code}\` | ${c.status} | ${c.summary} |`)
    .join('\n');
  const doc = {
    openapi: '3.1.0',
    servers: [
      {
        url: 'http://127.0.0.1:8080',
        description: '`mediaflow serve` with the default MEDIAFLOW_HOST and MEDIAFLOW_PORT',
      },
    ],
    info: {
      contact: { name: 'mediaflow maintainers' },
      title: 'mediaflow',
      version: options.version,
      description: [
        'Batch media jobs over object storage. Errors are `{ "error": { "code", "message", ... ' +
          '} }`; validation errors list each field in `issues` as `Expected <what> for <path> ' +
          'but received <value>`.',
        '',
        '| code | status | meaning |',
        '| --- | --- | --- |',
        codes,
      ].join('\n'),
    },
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'One of MEDIAFLOW_API_KEYS. Not needed when the server runs without keys (loopback ' +
            'only).',
        },
        webhookToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'MEDIAFLOW_WEBHOOK_TOKEN; only for the storage webhook.',
        },
      },
    },
    security: [{ apiKey: [] }],
    paths: {
      ...presetPaths(presets, error),
      '/v1/uploads/{name}': {
        put: {
          summary: "Upload a file to the input bucket (the dashboard's Upload button)",
          description:
            'The body (any media type) is streamed, refused past MEDIAFLOW_MAX_INPUT_BYTES, and ' +
            'stored as `uploads/<name>` in the input bucket; its upload event then starts the ' +
            'job, as for any upload.',
          parameters: [
            {
              name: 'name',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^[\\w][\\w .()+-]{0,199}$' },
            },
          ],
          requestBody: {
            required: true,
            content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
          },
          responses: {
            201: {
              description: 'Stored; the job follows from the upload event.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      bucket: { type: 'string' },
                      key: { type: 'string' },
                      bytes: { type: 'integer' },
                    },
                    required: ['bucket', 'key', 'bytes'],
                  },
                },
              },
            },
            400: error('Not a usable file name, or an empty body (REQUEST_INVALID).'),
            413: error('Larger than MEDIAFLOW_MAX_INPUT_BYTES (PAYLOAD_TOO_LARGE).'),
            ...common,
          },
        },
      },
      '/v1/overview': {
        get: {
          summary: 'Jobs per state, queue depth, running tasks, realtime factor',
          description: "The dashboard's operator strip; /metrics has the same for scrapers.",
          responses: { 200: { description: 'The overview.', ...json(overviewSchema) }, ...common },
        },
      },
      ...schedulePaths(),
      ...workerPaths(error),
      '/v1/jobs': {
        post: {
          summary: 'Submit a batch of objects',
          description:
            `Creates (or finds) one job per object. At most ${options.maxBatchItems} items per ` +
            `batch. With an \`Idempotency-Key\` header, a retry with the same body returns the ` +
            `first answer (header \`Idempotent-Replayed: true\`) for 24 h; the same key with ` +
            `another body is a 409. An answer over 256 KiB compressed is not kept: its retry ` +
            `runs again, finding the jobs it made. ${presetNamesText(presets)}`,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 255 },
            },
          ],
          requestBody: { required: true, ...json(submitBodySchema, 'input') },
          responses: {
            202: {
              description: 'Jobs created or found; ignored items say why.',
              ...json(submitResponseSchema),
            },
            400: error(
              'Invalid body (REQUEST_INVALID, with issues) or unknown preset (PRESET_UNKNOWN).',
            ),
            409: error(
              'Idempotency-Key reused with another body, or still in progress ' +
                '(IDEMPOTENCY_CONFLICT).',
            ),
            413: error('Too many items (PAYLOAD_TOO_LARGE).'),
            503: error('Storage or queue unavailable; safe to retry.'),
            ...common,
          },
        },
        get: {
          summary: 'List jobs, newest first',
          description:
            'Newest first, filtered by `state` and searched with `q` (source key or preset ' +
            'name). A search looks at a bounded number of jobs per store call, so its page may ' +
            'be short or empty with a nextCursor: keep paging while there is one.',
          parameters: listParams,
          responses: {
            200: {
              description: 'A page of jobs; pass nextCursor as cursor for the next one.',
              ...json(jobPageSchema),
            },
            400: error('Invalid query.'),
            ...common,
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          summary: 'A job: state, progress per task, outputs, error',
          parameters: [jobId],
          responses: {
            200: { description: 'The job.', ...json(jobViewSchema) },
            404: error('No such job (JOB_NOT_FOUND).'),
            ...common,
          },
        },
        delete: {
          summary: 'Cancel a job',
          description:
            'Stops its tasks (killing their ffmpeg processes) and removes what it wrote. A ' +
            'finished job is returned unchanged.',
          parameters: [jobId],
          responses: {
            200: { description: 'The job after cancellation.', ...json(jobViewSchema) },
            404: error('No such job.'),
            ...common,
          },
        },
      },
      '/v1/jobs/{id}/retry': {
        post: {
          summary: 'Run a failed or cancelled job again',
          description:
            'Re-runs the failed tasks and every task whose intermediates were removed when the ' +
            'job failed (in practice, the whole plan; see Orchestrator.retry).',
          parameters: [jobId],
          responses: {
            202: { description: 'The job, queued again.', ...json(jobViewSchema) },
            404: error('No such job.'),
            409: error(
              'The job is not failed or cancelled (JOB_STATE_CONFLICT), or its source changed ' +
                '(SOURCE_CHANGED).',
            ),
            ...common,
          },
        },
      },
      '/v1/jobs/{id}/events': {
        get: {
          summary: 'Progress of one job as Server-Sent Events',
          description:
            '`job` events carry the whole job (as GET /v1/jobs/{id}): a snapshot first, then ' +
            'on every change (progress at most every 250 ms). When the job ends, a last `job` ' +
            'event and an `end` event, then the stream closes.',
          parameters: [jobId],
          responses: {
            200: {
              description: 'An event stream.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            404: error('No such job.'),
            ...common,
          },
        },
      },
      '/v1/jobs/events': {
        get: {
          summary: 'Changes of every job as Server-Sent Events',
          description:
            '`job` events with job summaries (as in GET /v1/jobs). Never ends by itself.',
          responses: {
            200: {
              description: 'An event stream.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...common,
          },
        },
      },
      '/v1/jobs/{id}/outputs/{path}': {
        get: {
          summary: "Download one of a succeeded job's outputs",
          description:
            "Only the job's listed outputs, its manifest.json and the files its HLS playlists " +
            'reference. Honours one byte range.',
          parameters: [
            jobId,
            {
              name: 'path',
              in: 'path',
              required: true,
              schema: { type: 'string' },
              description: "Key relative to the job's output prefix, e.g. hls/master.m3u8.",
            },
          ],
          responses: {
            200: { description: 'The object.' },
            206: { description: 'Part of the object.' },
            404: error('Not an output of this job.'),
            416: error('Range outside the object.'),
            ...common,
          },
        },
      },
      '/v1/events/s3': {
        post: {
          summary: 'S3 / MinIO bucket-notification webhook',
          description:
            'S3 event notification JSON with URL-encoded keys (AWS and MinIO webhook ' +
            'encodings). Uploads to the input bucket become jobs; removals, test events and ' +
            'outputs are ignored.',
          security: [{ webhookToken: [] }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          responses: {
            200: { description: 'Each event and what became of it.' },
            400: error('Not an S3 notification (EVENT_INVALID).'),
            401: error('No or wrong webhook token.'),
            503: error('Storage or queue unavailable; the sender should retry.'),
          },
        },
        head: {
          summary: 'Liveness check used by MinIO webhook targets',
          security: [],
          responses: { 200: { description: 'The webhook is reachable.' } },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness',
          security: [],
          responses: { 200: { description: 'The process is up.', ...json(healthSchema) } },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: storage (and Redis in distributed mode); broker consumers shown',
          security: [],
          responses: {
            200: { description: 'Ready.', ...json(healthSchema) },
            503: { description: 'A dependency is down.', ...json(healthSchema) },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: {
            200: {
              description: 'Text exposition format.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const tags = completeOperations(paths);
  addKeyedErrors(paths, common);
  addExamples(paths);
  return { ...doc, tags };
}
