import type { Preset } from '../presets/schema.js';
import { imageWorkflow } from './image-workflow.js';
import type { Workflow } from './types.js';

export const WORKFLOWS: ReadonlyMap<Preset['kind'], Workflow> = new Map([[imageWorkflow.kind, imageWorkflow]]);
