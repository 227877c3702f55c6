import { MediaflowError } from '../../functions/errors.js';
import { planTask, resultOf, type TaskKind } from './task-kinds.js';
import type { JobSpec, TaskResult, TaskSpec, Workflow } from './types.js';
import type { ProbeTaskResult } from './video-results.js';

export const transcodeTaskId = (index: number) => `transcode-${String(index).padStart(4, '0')}`;
export const mergeTaskId = (rendition: string) => `merge-${rendition}`;

/**
 * probe → split → one transcode per segment, with the audio and the thumbnails → one merge per
 * rendition → master playlist. A source without video takes the audio path (loudness-normalised
 * outputs). Each task's params carry what it needs from earlier results, so handlers read no job
 * history.
 */
export const videoWorkflow: Workflow = {
  kind: 'video',
  // probe, split, transcodes+audio+thumbnails, merges, master: transcoding dominates.
  stageWeights: [1, 2, 40, 4, 1],
  next(job, done) {
    const probe = resultOf(done, 'probe', 'probe');
    if (!probe) return [planTask('probe', 'probe', {})];
    if (!probe.media.video) return loudnormStage(probe, done);

    const split = resultOf(done, 'split', 'split');
    if (!split) return [planTask('split', 'split', { media: probe.media })];

    // The audio (which needs the video's exact length from the split) and the thumbnails run
    // beside the transcodes: off the critical path, and the split stage stays a quick stream copy.
    const transcodes = split.segments.map((segment) => ({
      id: transcodeTaskId(segment.index),
      segment,
    }));
    const needsAudio = probe.media.audio !== null;
    if (
      transcodes.some((t) => !done[t.id]) ||
      (needsAudio && !done['audio']) ||
      !done['thumbnails']
    ) {
      return [
        ...transcodes.map(({ id, segment }) =>
          planTask(id, 'transcode', {
            segment,
            media: probe.media,
            renditions: probe.renditions,
            stageTasks: transcodes.length,
          }),
        ),
        ...(needsAudio
          ? [planTask('audio', 'audio', { media: probe.media, durationSeconds: split.duration })]
          : []),
        planTask('thumbnails', 'thumbnails', { media: probe.media }),
      ];
    }

    const audio = resultOf(done, 'audio', 'audio')?.audio ?? null;
    const merges = probe.renditions.map((rendition) => ({
      id: mergeTaskId(rendition.name),
      rendition,
    }));
    const audioRenditions = cmafAudio(job, probe, audio);
    if (merges.some((m) => !done[m.id]) || audioRenditions.some((a) => !done[a.id])) {
      return [
        ...audioRenditions,
        ...merges.map(({ id, rendition }) =>
          planTask(id, 'merge', {
            rendition,
            audio,
            pieces: split.segments.map((s) => ({
              name: pieceName(done, transcodeTaskId(s.index), rendition.name),
              duration: s.duration,
            })),
          }),
        ),
      ];
    }

    if (!done['master']) {
      const variants = merges.map((m) => finished(done, m.id, 'merge').variant);
      const audio = audioRenditions.map((a) => finished(done, a.id, 'audio-rendition').rendition);
      return [planTask('master', 'master', { variants, audio })];
    }
    return [];
  },
};

/**
 * With CMAF packaging the audio, encoded once, is also its own rendition beside the video merges.
 */
function cmafAudio(job: JobSpec, probe: ProbeTaskResult, audio: string | null): TaskSpec[] {
  const preset = job.preset;
  if (!audio || !probe.media.audio || preset.kind !== 'video') return [];
  if (preset.packaging !== 'cmaf' || !preset.hls) return [];
  return [
    planTask('audio-rendition-0', 'audio-rendition', {
      audio,
      name: 'audio-0',
      language: null,
      label: 'Audio',
      channels: 2,
      sampleRate: 48_000,
    }),
  ];
}

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

function loudnormStage(
  probe: ProbeTaskResult,
  done: Readonly<Record<string, TaskResult>>,
): TaskSpec[] {
  return done['loudnorm'] ? [] : [planTask('loudnorm', 'loudnorm', { media: probe.media })];
}

/** The result of a task the plan already waited for: its absence is a bug, said plainly. */
function finished<K extends TaskKind>(
  done: Readonly<Record<string, TaskResult>>,
  id: string,
  kind: K,
) {
  const result = resultOf(done, id, kind);
  if (!result) throw new MediaflowError('INTERNAL', `Task ${id} has no stored result`);
  return result;
}

/** The encoded piece of one rendition that a transcode task stored. */
function pieceName(done: Readonly<Record<string, TaskResult>>, id: string, rendition: string) {
  const name = finished(done, id, 'transcode').files[rendition];
  if (!name) throw new MediaflowError('INTERNAL', `Task ${id} stored no ${rendition} piece`);
  return name;
}
