import type { Preset } from '../presets/schema.js';
import { imageWorkflow } from './image-workflow.js';
import type { Workflow } from './types.js';
import { audioWorkflow } from './audio-workflow.js';
import { videoWorkflow } from './video-workflow.js';

export const WORKFLOWS: ReadonlyMap<Preset['kind'], Workflow> = new Map(
  [imageWorkflow, videoWorkflow, audioWorkflow].map((w) => [w.kind, w]),
);
