import { MediaflowError } from '../../functions/errors.js';
import type { AudioPreset, VideoPreset } from '../presets/schema.js';
import type { TaskIO } from './handler.js';

/** The job's preset, asserted to be the kind a task belongs to. */
export function videoPreset(io: TaskIO): VideoPreset {
  const preset = io.job.preset;
  if (preset.kind !== 'video')
    throw new MediaflowError('INTERNAL', `video task in a ${preset.kind} job`);
  return preset;
}

/** An audio preset, or the defaults of one when an audio-only file arrived under a video preset. */
export function audioPreset(
  io: TaskIO,
): Pick<AudioPreset, 'formats' | 'bitrateKbps'> & { loudnessLufs: number } {
  const preset = io.job.preset;
  const lufs = io.config.video.loudnessLufs;
  if (preset.kind === 'audio')
    return {
      formats: preset.formats,
      bitrateKbps: preset.bitrateKbps,
      loudnessLufs: preset.loudnessLufs ?? lufs,
    };
  return { formats: ['aac', 'mp3', 'opus'], bitrateKbps: 128, loudnessLufs: lufs };
}
