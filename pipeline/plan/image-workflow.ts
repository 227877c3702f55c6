import { planTask } from './task-kinds.js';
import type { Workflow } from './types.js';

/**
 * An image job is one task: decoding once and fanning out every width and format from that
 * decode is faster than a task per derivative, and a photo takes well under a second.
 */
export const imageWorkflow: Workflow = {
  kind: 'image',
  stageWeights: [1],
  next(_job, done) {
    return done['image'] ? [] : [planTask('image', 'image', {})];
  },
};
