import { MediaflowError } from '../../functions/errors.js';
import type { VideoPreset } from '../presets/schema.js';
import type { TaskIO } from './handler.js';

/** The job's preset, asserted to be the kind a task belongs to. */
export function videoPreset(io: TaskIO): VideoPreset {
  const preset = io.job.preset;
  if (preset.kind !== 'video')
    throw new MediaflowError('INTERNAL', `video task in a ${preset.kind} job`);
  return preset;
}
