import { z } from 'zod';

type Json = Record<string, unknown>;

const reportSchema = z.object({
  listed: z.number().int(),
  created: z.number().int(),
  existing: z.number().int(),
  adopted: z.number().int(),
  ignored: z.number().int(),
  failed: z.number().int(),
});

/** GET /v1/schedules, as `ScheduleView` in schedules/port.ts. */
export const scheduleListSchema = z.object({
  schedules: z.array(
    z.object({
      name: z.string(),
      cron: z.string(),
      timezone: z.string().nullable(),
      bucket: z.string(),
      prefix: z.string(),
      preset: z.string().nullable(),
      lastRun: z
        .object({
          scheduledFor: z.string(),
          startedAt: z.string(),
          catchUp: z.boolean(),
          report: reportSchema.optional(),
          error: z.string().optional(),
        })
        .nullable(),
      nextRun: z.string().nullable(),
    }),
  ),
});

export function schedulePaths(): Json {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(scheduleListSchema, {
    io: 'output',
  }) as Json;
  return {
    '/v1/schedules': {
      get: {
        summary: 'The schedules (timer triggers) with their last and next runs',
        description:
          'From `schedules:` in MEDIAFLOW_PRESETS_FILE. Each run submits every object under the ' +
          'prefix as a batch (idempotent). `catchUp` marks a run that made up for times missed ' +
          'while no serve process ran (missed times collapse into one run).',
        responses: {
          200: {
            description: 'Every schedule.',
            content: { 'application/json': { schema } },
          },
        },
      },
    },
  };
}
