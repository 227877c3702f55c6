import type { Binaries } from '../../functions/ffmpeg/binaries.js';
import {
  missingCapabilities,
  requireCapabilities,
  type Capabilities,
  type CapabilityNeeds,
} from '../../functions/ffmpeg/capabilities.js';
import { CODEC_ENCODERS } from '../../functions/video/video-codecs.js';
import type { Logger } from '../log.js';
import { BUILTIN_PRESETS } from './builtin.js';
import type { PresetCatalog } from './catalog.js';
import type { Preset } from './schema.js';

const AUDIO_ENCODERS = { aac: 'aac', mp3: 'libmp3lame', opus: 'libopus' } as const;

/**
 * What ffmpeg must have for a preset's jobs to run: its encoders and the filters its settings
 * use. Images are made by sharp and need nothing from ffmpeg. Text watermarks are rendered by
 * Pango into an image and overlaid, so they need `overlay`, not `drawtext`.
 */
export function presetNeeds(preset: Preset): CapabilityNeeds {
  switch (preset.kind) {
    case 'video': {
      const encoders = new Set<string>(preset.codecs.map((c) => CODEC_ENCODERS[c]));
      if (preset.keepHdr) encoders.add(CODEC_ENCODERS.hevc);
      encoders.add('aac');
      // zscale and tonemap turn HDR sources into the SDR ladder; any upload may be HDR.
      const filters = [
        'scale',
        'split',
        'zscale',
        'tonemap',
        ...(preset.watermark ? ['overlay'] : []),
      ];
      return { encoders: [...encoders], filters };
    }
    case 'audio':
      return {
        encoders: preset.formats.map((f) => AUDIO_ENCODERS[f]),
        filters: ['loudnorm'],
      };
    case 'image':
      return {};
  }
}

/**
 * Refuses to start with a preset of the presets file that this ffmpeg cannot run, naming what is
 * missing; a built-in the user did not ask for (the audio preset without libopus, say) only warns,
 * so a minimal ffmpeg still serves the presets it can.
 */
export function checkPresetNeeds(
  catalog: PresetCatalog,
  capabilities: Capabilities,
  binaries: Pick<Binaries, 'ffmpeg' | 'versions'>,
  log: Pick<Logger, 'warn'>,
): void {
  for (const preset of catalog.presets) {
    const what = `The preset "${preset.name}"`;
    const unbuilt = unbuiltSettings(preset);
    if (unbuilt.length)
      log.warn({ preset: preset.name }, `${what}: not produced yet: ${unbuilt.join('; ')}`);
    if (!BUILTIN_PRESETS.includes(preset))
      requireCapabilities(
        capabilities,
        presetNeeds(preset),
        `${what} of ${catalog.file}`,
        binaries,
      );
    else {
      const missing = missingCapabilities(capabilities, presetNeeds(preset));
      if (missing.length)
        log.warn(
          { preset: preset.name, missing },
          `${what} cannot run here: no ${missing.join(', ')}`,
        );
    }
  }
}

/** Preset settings the schema accepts that the pipeline does not produce yet. */
export function unbuiltSettings(preset: Preset): string[] {
  if (preset.kind !== 'video') return [];
  return preset.keepHdr ? ['keepHdr (HDR sources get the SDR ladder only)'] : [];
}
