import { planTask, resultOf } from './task-kinds.js';
import type { TaskResult, TaskSpec, Workflow } from './types.js';
import type { ProbeTaskResult } from './video-results.js';

/** An audio preset: probe, then loudness-normalised encodes. */
export const audioWorkflow: Workflow = {
  kind: 'audio',
  stageWeights: [1, 9],
  next(_job, done: Readonly<Record<string, TaskResult>>) {
    const probe = resultOf(done, 'probe', 'probe');
    if (!probe) return [planTask('probe', 'probe', {})];
    return loudnormStage(probe, done);
  },
};

/** Loudness-normalised encodes; also the video workflow's path for a source without video. */
export function loudnormStage(
  probe: ProbeTaskResult,
  done: Readonly<Record<string, TaskResult>>,
): TaskSpec[] {
  return done['loudnorm'] ? [] : [planTask('loudnorm', 'loudnorm', { media: probe.media })];
}
