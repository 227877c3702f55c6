import { findPreset, presetNameFor } from './builtin.js';
import type { PresetCatalog } from './catalog.js';
import { matchRoute, type RoutedObject } from './routes.js';
import type { Preset } from './schema.js';

export type PresetChoice =
  | { presets: Preset[]; route: number | undefined }
  | { presets: []; route: undefined; ignored: 'no-route' };

/**
 * Which presets an object gets: the one asked for by name; else the presets of the first matching
 * route; else, when there are no routes at all, the default for its media type. With routes and
 * none matching, nothing: the object is ignored rather than failed (routes say what to process).
 */
export function choosePresets(
  catalog: Pick<PresetCatalog, 'presets' | 'routes'>,
  object: RoutedObject,
  explicit?: string,
): PresetChoice {
  if (explicit !== undefined)
    return { presets: [findPreset(explicit, catalog.presets)], route: undefined };
  if (catalog.routes.length === 0)
    return {
      presets: [findPreset(presetNameFor(object.key, object.contentType), catalog.presets)],
      route: undefined,
    };
  const match = matchRoute(catalog.routes, object);
  if (!match) return { presets: [], route: undefined, ignored: 'no-route' };
  return {
    presets: match.route.presets.map((name) => findPreset(name, catalog.presets)),
    route: match.index,
  };
}
