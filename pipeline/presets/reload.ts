import { toErrorRecord } from '../../functions/errors.js';
import type { App } from '../app.js';
import type { PresetCatalog } from './catalog.js';
import { loadPresetsFile } from './load-file.js';
import { checkPresetNeeds } from './needs.js';

export type ReloadOutcome =
  | { status: 'reloaded'; catalog: PresetCatalog }
  | { status: 'kept'; reason: string };

/**
 * Re-reads the presets file (on SIGHUP) and puts it in force if it is valid and this ffmpeg can
 * run it; otherwise the presets in force stay and the reason is logged. Jobs already created keep
 * the preset they were created with (it is stored in the job).
 */
export function reloadPresets(
  app: Pick<App, 'orchestrator' | 'capabilities' | 'binaries' | 'log'>,
): ReloadOutcome {
  const file = app.orchestrator.catalog.file;
  if (!file) {
    const reason = 'no MEDIAFLOW_PRESETS_FILE was set at start-up: nothing to reload';
    app.log.warn({}, `presets reload: ${reason}`);
    return { status: 'kept', reason };
  }
  let catalog: PresetCatalog;
  try {
    catalog = loadPresetsFile(file);
    checkPresetNeeds(catalog, app.capabilities, app.binaries, app.log);
  } catch (error) {
    const { code, message } = toErrorRecord(error);
    app.log.error({ code, file }, `presets reload failed, the previous presets stay: ${message}`);
    return { status: 'kept', reason: message };
  }
  app.orchestrator.setCatalog(catalog);
  for (const warning of catalog.warnings) app.log.warn({ file }, `presets file: ${warning}`);
  app.log.info(
    { file, presets: catalog.presets.length, routes: catalog.routes.length },
    'presets reloaded',
  );
  return { status: 'reloaded', catalog };
}
