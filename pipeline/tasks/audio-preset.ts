import type { AudioPreset } from '../presets/schema.js';
import type { TaskIO } from './handler.js';

/** An audio preset, or the defaults of one when an audio-only file arrived under a video preset. */
export function audioPreset(
  io: TaskIO,
): Pick<AudioPreset, 'formats' | 'bitrateKbps'> & { loudnessLufs: number } {
  const preset = io.job.preset;
  const lufs = io.config.audio.loudnessLufs;
  if (preset.kind === 'audio')
    return {
      formats: preset.formats,
      bitrateKbps: preset.bitrateKbps,
      loudnessLufs: preset.loudnessLufs ?? lufs,
    };
  return { formats: ['aac', 'mp3', 'opus'], bitrateKbps: 128, loudnessLufs: lufs };
}
