import type { Preset } from './schema.js';
import type { Route, Schedule } from './file-schema.js';
import { BUILTIN_PRESETS } from './builtin.js';

/**
 * Every preset, route and schedule a process knows: the built-ins, overridden and extended by
 * the presets file (MEDIAFLOW_PRESETS_FILE) when there is one. Resolved once at start-up (and on
 * SIGHUP); nothing past this point sees a partial preset.
 */
export interface PresetCatalog {
  /** The file it came from; undefined for the built-ins alone. */
  file: string | undefined;
  /** Built-ins first (a file preset of the same name replaces one in place), then the file's. */
  presets: readonly Preset[];
  /** Ordered; empty means the preset is chosen from the media type. */
  routes: readonly Route[];
  schedules: readonly Schedule[];
  /** Problems worth a log line that do not stop start-up (routes shadowed by earlier ones). */
  warnings: readonly string[];
}

export const BUILTIN_CATALOG: PresetCatalog = Object.freeze({
  file: undefined,
  presets: BUILTIN_PRESETS,
  routes: [],
  schedules: [],
  warnings: [],
});

/** The built-ins with the file's presets laid over them by name. */
export function mergePresets(
  builtins: readonly Preset[],
  custom: readonly Preset[],
): readonly Preset[] {
  const byName = new Map(custom.map((p) => [p.name, p]));
  const merged = builtins.map((p) => byName.get(p.name) ?? p);
  const builtinNames = new Set(builtins.map((p) => p.name));
  return [...merged, ...custom.filter((p) => !builtinNames.has(p.name))];
}
