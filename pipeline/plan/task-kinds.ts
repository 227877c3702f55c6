import { z } from 'zod';
import { MediaflowError } from '../../functions/errors.js';
import {
  audioRenditionSchema,
  mediaSchema,
  outputSchema,
  pieceEndsSchema,
  renditionSchema,
  seamSchema,
  segmentSchema,
  skippedStreamSchema,
  subtitleRenditionSchema,
  variantSchema,
} from './task-schemas.js';
import type { TaskResult, TaskSpec } from './types.js';

const outputs = z.array(outputSchema);

/**
 * The contract between workflows and task handlers: for each task kind, the params a workflow
 * plans it with and the result its handler returns. Handlers take both schemas from here (see
 * `defineTask`), workflows plan with `planTask` and read results with `resultOf`, so a workflow
 * cannot plan a task with the wrong params or read a result with the wrong shape, and a handler
 * cannot return one: results are checked before they are stored and when they are read.
 */
export const TaskKinds = {
  /** Inspects and validates the source, and decides its rendition ladder. */
  probe: {
    params: z.object({}),
    result: z.object({
      media: mediaSchema,
      /** The ladder for this source (empty for audio-only sources). */
      renditions: z.array(renditionSchema),
    }),
  },
  split: {
    params: z.object({ media: mediaSchema }),
    result: z.object({
      mode: z.enum(['split', 'whole']),
      reason: z.string().optional(),
      duration: z.number(),
      segments: z.array(segmentSchema).min(1),
    }),
  },
  transcode: {
    params: z.object({
      segment: segmentSchema,
      media: mediaSchema,
      renditions: z.array(renditionSchema).min(1),
      /** Transcode tasks in this stage (absent in jobs planned before it existed). */
      stageTasks: z.number().int().positive().optional(),
    }),
    result: z.object({
      /** Encoded piece name under scratch, by rendition name. */
      files: z.record(z.string(), z.string()),
      /** Seam QC: SSIM of the first and last frames, by rendition (pieces of a split source). */
      ends: z.record(z.string(), pieceEndsSchema).optional(),
    }),
  },
  audio: {
    params: z.object({
      media: mediaSchema,
      durationSeconds: z.number().positive(),
      /** Position in `media.audioStreams`; the first stream when unset. */
      stream: z.number().int().nonnegative().optional(),
    }),
    /** The encoded audio's name under scratch, or null for a source without audio. */
    result: z.object({ audio: z.string().nullable() }),
  },
  /** Packages the audio, encoded once, as its own CMAF rendition. */
  'audio-rendition': {
    params: z.object({
      audio: z.string(),
      name: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
      language: z.string().nullable(),
      label: z.string(),
      channels: z.number().int().positive(),
      sampleRate: z.number().int().positive(),
    }),
    result: z.object({ rendition: audioRenditionSchema, outputs }),
  },
  /** Text subtitle streams as WebVTT renditions; bitmap ones reported as skipped. */
  subtitles: {
    params: z.object({ media: mediaSchema, durationSeconds: z.number().positive() }),
    result: z.object({
      subtitles: z.array(subtitleRenditionSchema),
      skipped: z.array(skippedStreamSchema),
      outputs,
    }),
  },
  thumbnails: {
    params: z.object({ media: mediaSchema }),
    result: z.object({ outputs }),
  },
  merge: {
    params: z.object({
      rendition: renditionSchema,
      audio: z.string().nullable(),
      pieces: z
        .array(
          z.object({
            name: z.string(),
            duration: z.number().positive(),
            // Seam QC inputs (absent in jobs planned before they existed).
            frameCount: z.number().int().positive().optional(),
            ends: pieceEndsSchema.optional(),
          }),
        )
        .min(1),
    }),
    result: z.object({
      variant: variantSchema,
      outputs,
      /** Seam QC of each join, recorded in the manifest. */
      seams: z.array(seamSchema).optional(),
    }),
  },
  master: {
    params: z.object({
      variants: z.array(variantSchema).min(1),
      audio: z.array(audioRenditionSchema).default([]),
      subtitles: z.array(subtitleRenditionSchema).default([]),
    }),
    result: z.object({ outputs }),
  },
  loudnorm: {
    params: z.object({ media: mediaSchema }),
    result: z.object({
      outputs,
      measured: z.object({
        input_i: z.string(),
        input_tp: z.string(),
        input_lra: z.string(),
        input_thresh: z.string(),
        target_offset: z.string(),
      }),
      target: z.object({ integrated: z.number(), truePeak: z.number(), range: z.number() }),
    }),
  },
  image: {
    params: z.object({}),
    result: z.object({
      outputs,
      source: z.object({
        format: z.string(),
        width: z.number(),
        height: z.number(),
        orientation: z.number(),
        frames: z.number(),
      }),
    }),
  },
} as const satisfies Record<string, { params: z.ZodType; result: z.ZodType<TaskResult> }>;

export type TaskKind = keyof typeof TaskKinds;
/** Params as a handler receives them (defaults applied). */
export type TaskParams<K extends TaskKind> = z.output<(typeof TaskKinds)[K]['params']>;
/** Params as a workflow plans them (defaults may be left out). */
export type PlanParams<K extends TaskKind> = z.input<(typeof TaskKinds)[K]['params']>;
export type TaskResultOf<K extends TaskKind> = z.infer<(typeof TaskKinds)[K]['result']>;

/** A task of a known kind; its params are checked against the kind's schema when compiled. */
export function planTask<K extends TaskKind>(id: string, kind: K, params: PlanParams<K>): TaskSpec {
  return { id, kind, params };
}

/**
 * A stored result, read through its kind's schema. Undefined when the task has not finished; a
 * result of the wrong shape (a handler bug, or a result stored by an incompatible version) is an
 * error that names the task and the fields, never a silently wrong plan.
 */
export function resultOf<K extends TaskKind>(
  done: Readonly<Record<string, TaskResult>>,
  id: string,
  kind: K,
): TaskResultOf<K> | undefined {
  const stored = done[id];
  if (stored === undefined) return undefined;
  // TypeScript cannot follow K into TaskKinds[kind]; the entry is the one for this kind.
  const schema = TaskKinds[kind].result as unknown as z.ZodType<TaskResultOf<K>>;
  return checkResult(schema, stored, kind, `The stored result of task ${id}`);
}

/**
 * Parses a task's result with its schema. A mismatch is INTERNAL (a bug, not bad media) and the
 * message names the task, the kind and each wrong field; `what` starts it.
 */
export function checkResult<R>(
  schema: z.ZodType<R>,
  result: unknown,
  kind: string,
  what: string,
): R {
  const parsed = schema.safeParse(result);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new MediaflowError(
      'INTERNAL',
      `${what} does not match the ${kind} result contract: ${issues.join('; ')}`,
    );
  }
  return parsed.data;
}

export function isTaskKind(kind: string): kind is TaskKind {
  return Object.hasOwn(TaskKinds, kind);
}
