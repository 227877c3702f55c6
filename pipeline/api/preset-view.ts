import { z } from 'zod';
import { BUILTIN_PRESETS } from '../presets/builtin.js';
import type { PresetCatalog } from '../presets/catalog.js';
import { routeSchema } from '../presets/file-schema.js';
import { presetSchema, type Preset } from '../presets/schema.js';

const origin = z
  .enum(['builtin', 'file'])
  .describe(
    'builtin: shipped with mediaflow; file: from MEDIAFLOW_PRESETS_FILE (may replace one).',
  );

/** A preset with every setting resolved (defaults filled in), and where it comes from. */
export const presetViewSchema = presetSchema.and(z.object({ origin }));

export const presetListSchema = z.object({
  presets: z.array(presetViewSchema),
  routes: z
    .array(routeSchema)
    .describe('In order; the first matching route wins. Empty: presets by media type.'),
});

export type PresetView = z.infer<typeof presetViewSchema>;

export function presetView(preset: Preset): PresetView {
  return { ...preset, origin: BUILTIN_PRESETS.includes(preset) ? 'builtin' : 'file' };
}

export function presetList(catalog: PresetCatalog): z.infer<typeof presetListSchema> {
  return { presets: catalog.presets.map(presetView), routes: [...catalog.routes] };
}
