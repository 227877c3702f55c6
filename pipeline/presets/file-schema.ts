import { Cron } from 'croner';
import { z } from 'zod';
import { presetSchema } from './schema.js';

const presetName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'a preset name');
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 lowercase characters)');

/**
 * One routing rule: it matches an upload when every condition it sets holds, and names the
 * presets to run (one job each). Routes are tried in order; the first match wins.
 */
export const routeSchema = z
  .strictObject({
    bucket: bucketName.optional(),
    /** The key starts with this. */
    prefix: z.string().min(1).max(1024).optional(),
    /** `*` (within one path segment), `**` (any depth), `?`, `{a,b}`; matched on the whole key. */
    glob: z.string().min(1).max(1024).optional(),
    /** `image/png`, or a family such as `image/*`. */
    contentType: z
      .string()
      .regex(/^[a-z0-9.+-]+\/([a-z0-9.+-]+|\*)$/i, 'a media type like image/png or image/*')
      .optional(),
    minBytes: z.number().int().nonnegative().optional(),
    maxBytes: z.number().int().nonnegative().optional(),
    presets: z.array(presetName).min(1).max(16),
  })
  .refine((r) => r.minBytes === undefined || r.maxBytes === undefined || r.minBytes <= r.maxBytes, {
    message: 'minBytes at most maxBytes',
    path: ['minBytes'],
  });

/**
 * A time-based trigger: every time `cron` fires (in `timezone`, default UTC), the objects under
 * `bucket`/`prefix` are submitted with `preset` (default: routes, then the media type). The
 * triggers fire them; this file only defines and validates them.
 */
export const scheduleSchema = z
  .strictObject({
    name: presetName,
    cron: z.string().min(1).max(200),
    timezone: z.string().min(1).max(64).optional(),
    bucket: bucketName,
    prefix: z.string().max(1024),
    preset: presetName.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.timezone !== undefined && !isTimeZone(s.timezone))
      ctx.addIssue({
        code: 'custom',
        path: ['timezone'],
        message: 'an IANA time zone such as Europe/Paris',
        input: s.timezone,
      });
    else {
      const error = cronError(s.cron, s.timezone);
      if (error)
        ctx.addIssue({
          code: 'custom',
          path: ['cron'],
          message: `a cron expression (${error})`,
          input: s.cron,
        });
    }
  });

/** The presets file as written: every list is optional. */
export const presetsFileSchema = z.strictObject({
  presets: z.array(presetSchema).default([]),
  routes: z.array(routeSchema).default([]),
  schedules: z.array(scheduleSchema).default([]),
});

export type Route = z.infer<typeof routeSchema>;
export type Schedule = z.infer<typeof scheduleSchema>;
export type PresetsFile = z.infer<typeof presetsFileSchema>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function cronError(pattern: string, timezone: string | undefined): string | undefined {
  try {
    new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) }).stop();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
