import crypto from 'node:crypto';
import { presetSchema, type Preset } from './schema.js';

/**
 * A short hash of what a preset asks for, which joins the job id: editing a preset (a new CRF, a
 * new ladder) gives every object a new job, so re-processing after a change needs no `force`.
 *
 * Only the settings that differ from the schema's defaults count. A release that adds a field
 * with a default keeping today's behaviour therefore changes no job id (otherwise the next sweep
 * would redo every object after an upgrade); the flip side is that a release changing a default's
 * value does not either, and re-processing then takes `force`.
 */
export function presetFingerprint(preset: Preset): string {
  const defaults = presetSchema.parse({ name: preset.name, kind: preset.kind }) as Record<
    string,
    unknown
  >;
  const changed = Object.entries(preset)
    .filter(([key, value]) => canonical(value) !== canonical(defaults[key]))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return crypto
    .createHash('sha256')
    .update(canonical(Object.fromEntries(changed)))
    .digest('hex')
    .slice(0, 16);
}

/** JSON with object keys sorted, so equal settings always hash alike. */
function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
