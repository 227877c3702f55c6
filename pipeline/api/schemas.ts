import { z } from 'zod';
import { DOT_SEGMENT_MESSAGE, hasDotSegment } from '../storage/key-safety.js';
import { describeIssue } from '../../functions/image/validation-message.js';
import { ERROR_CODES } from '../../functions/errors.js';
import { JOB_STATES } from '../jobs/job.js';
import { HTTP_ERROR_CODES, RequestValidationError } from './http-errors.js';
import { outputSchema } from '../plan/task-schemas.js';

/**
 * The API's request and response shapes. They validate requests, type the handlers, and generate
 * the OpenAPI document (`z.toJSONSchema`), so the docs cannot drift from what the server does; the
 * tests parse real responses with the response schemas for the same reason.
 */

/**
 * Keys and prefixes are sent to storage as UTF-8, which an unpaired surrogate (`"\ud800"`, valid
 * JSON) cannot be encoded in: refused here as a 400, rather than failing at the S3 client as a
 * retryable STORAGE_UNAVAILABLE.
 */
const wellFormed = (s: string) => !/\p{Cs}/u.test(s);
const WELL_FORMED = 'well-formed Unicode (no unpaired surrogates)';
const objectKey = z
  .string()
  .min(1)
  .max(1024)
  .refine(wellFormed, WELL_FORMED)
  .refine((key) => !hasDotSegment(key), DOT_SEGMENT_MESSAGE);
const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name');

export const submitItemSchema = z.strictObject({ bucket, key: objectKey });

/**
 * Per-request options. None are defined yet: a preset is chosen by name (`preset`), and a
 * per-request override of its fields would change what a job produces without changing its id
 * (derived from source version x preset name), so overrides belong in a named preset. Unknown keys
 * are rejected rather than ignored, so a client never believes an option took effect.
 */
export const submitOptionsSchema = z
  .strictObject({})
  .describe(
    'Reserved. No options are defined yet; unknown keys are rejected (define a named preset ' +
      'instead of overriding one).',
  );

/** Exactly one of `items` and `prefix`; `bucket` only goes with `prefix`. */
export const submitBodySchema = z
  .strictObject({
    items: z
      .array(submitItemSchema)
      .min(1)
      .optional()
      .describe("Objects to process; at most the server's batch limit (413 beyond)."),
    prefix: z
      .string()
      .max(1024)
      .refine(wellFormed, WELL_FORMED)
      .refine((prefix) => !hasDotSegment(prefix), DOT_SEGMENT_MESSAGE)
      .optional()
      .describe('Instead of items: every object under this key prefix ("" for the whole bucket).'),
    bucket: bucket
      .optional()
      .describe('With prefix: the bucket to list; default the input bucket.'),
    preset: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'Preset name (GET /v1/presets lists them); default: the routes of the presets file, ' +
          'else chosen from the media type (video, image, audio).',
      ),
    force: z
      .boolean()
      .optional()
      .describe(
        'Run again even where a job succeeded or a committed manifest exists (same job id: ' +
          'ids already change when the preset changes).',
      ),
    options: submitOptionsSchema.optional(),
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .describe(
        'When each job of the batch ends, a job.completed or job.failed CloudEvent is POSTed ' +
          'here, signed with MEDIAFLOW_NOTIFY_SECRET like every notification.',
      ),
  })
  .superRefine((body, ctx) => {
    const has = (v: unknown) => v !== undefined;
    if (has(body.items) === has(body.prefix))
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'either items or prefix (not both)',
        input: body,
      });
    if (has(body.bucket) && !has(body.prefix))
      ctx.addIssue({
        code: 'custom',
        path: ['bucket'],
        message: 'bucket only together with prefix (items name their own bucket)',
        input: body.bucket,
      });
  })
  .describe(
    'A batch: `items` or `prefix` (exactly one), a preset, options, and an optional webhook URL.',
  );
export type SubmitBody = z.infer<typeof submitBodySchema>;

export const listQuerySchema = z.strictObject({
  state: z.enum(JOB_STATES).optional(),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      'Only jobs whose source key or preset name contains this text (ASCII letters in any ' +
        'case). A search may answer fewer jobs than `limit`, even none, with a nextCursor: ' +
        'keep paging while there is one.',
    ),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const errorRecordSchema = z.object({
  code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES]),
  message: z.string(),
  retryable: z.boolean(),
  stderrTail: z.string().optional(),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum([...Object.keys(ERROR_CODES), ...Object.keys(HTTP_ERROR_CODES)] as [
      string,
      ...string[],
    ]),
    message: z.string(),
    retryable: z.boolean().optional(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    stderrTail: z.string().optional(),
    requestId: z.string().optional(),
  }),
});

export const taskViewSchema = z.object({
  id: z.string(),
  kind: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  progress: z.number().min(0).max(1),
  attempts: z.number().int(),
  error: errorRecordSchema.optional(),
  /** The stage it was planned in (1 for the first); tasks are listed in plan order. */
  stage: z.number().int(),
  /** When it first started and when its last attempt ended (ISO 8601). */
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
});

/** An output as the manifest lists it, plus where the API streams it from (server-relative). */
export const outputViewSchema = outputSchema.extend({ url: z.string() });

export const jobSummarySchema = z.object({
  id: z.string(),
  state: z.enum(JOB_STATES),
  progress: z.number().min(0).max(1),
  preset: z.string(),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    etag: z.string(),
    versionId: z.string().optional(),
    size: z.number(),
    contentType: z.string().optional(),
  }),
  createdAt: z.string(),
  updatedAt: z.string(),
  error: errorRecordSchema.optional(),
  /** While running: the stage and its task kinds, e.g. "stage 3/5: transcode×8, audio". */
  currentStage: z.string().optional(),
  /** While running: a rough estimate of the seconds left, from the progress so far. */
  etaSeconds: z.number().optional(),
});

export const jobViewSchema = jobSummarySchema.extend({
  stage: z.number().int(),
  tasks: z.array(taskViewSchema),
  outputBucket: z.string(),
  outputPrefix: z.string(),
  outputs: z.array(outputViewSchema),
  /** The committed manifest, present once the job succeeded. */
  manifestUrl: z.string().optional(),
});
export type JobView = z.infer<typeof jobViewSchema>;
export type JobSummary = z.infer<typeof jobSummarySchema>;

export const jobPageSchema = z.object({
  jobs: z.array(jobSummarySchema),
  nextCursor: z.string().nullable(),
});

export const submitItemResultSchema = z.object({
  bucket: z.string(),
  key: z.string(),
  status: z
    .enum(['created', 'existing', 'adopted', 'reprocessing', 'ignored'])
    .describe(
      'adopted: the work was committed before (manifest found), recorded as succeeded without ' +
        'running; reprocessing: force restarted a succeeded job.',
    ),
  jobId: z.string().optional(),
  preset: z.string().optional().describe('The preset of this job (one item per preset routed).'),
  state: z.enum(JOB_STATES).optional(),
  reason: z
    .string()
    .optional()
    .describe(
      'Why an item was ignored: output-location, folder-marker, unsafe-key (a . or .. segment ' +
        'from an event), missing, stale, no-route (the ' +
        'presets file has routes and none matches).',
    ),
});

export const submitResponseSchema = z.object({
  jobIds: z
    .array(z.string())
    .describe('Ids of the jobs created or found, in item order, without duplicates.'),
  items: z.array(submitItemResultSchema),
});
export type SubmitResponse = z.infer<typeof submitResponseSchema>;

export const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z
    .record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() }))
    .optional(),
  /** Each broker consumer's state and counts; shown, never failing readiness. */
  consumers: z
    .array(
      z.object({
        trigger: z.string(),
        state: z.enum(['connecting', 'ready', 'reconnecting', 'stopped']),
        counts: z.record(z.string(), z.number().int()),
      }),
    )
    .optional(),
  /** Only for callers with a key (or a keyless, loopback-only API): what runs the media work. */
  details: z
    .object({
      mediaTools: z.record(
        z.enum(['ffmpeg', 'ffprobe']),
        z.object({ version: z.string(), source: z.string(), path: z.string() }),
      ),
      capabilities: z.object({
        filters: z.record(z.string(), z.boolean()),
        hwDevices: z.array(z.string()),
        counts: z.object({ encoders: z.number(), decoders: z.number(), filters: z.number() }),
      }),
    })
    .optional(),
});

/**
 * Parses untrusted input; on failure throws REQUEST_INVALID listing every field as
 * `Expected <what> for <path> but received <value>` (the project's one wording).
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  root: 'body' | 'query' | 'params',
): z.output<S> {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: [root, ...issue.path.map(String)].join('.'),
    message: describeIssue(issue, root),
  }));
  throw new RequestValidationError(issues);
}
