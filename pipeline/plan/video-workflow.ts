import type { JobSpec, TaskResult, TaskSpec, Workflow } from './types.js';
import type {
  AudioRenditionTaskResult,
  AudioTaskResult,
  MergeTaskResult,
  ProbeTaskResult,
  SplitTaskResult,
  TranscodeTaskResult,
} from './video-results.js';

/** A stored result, typed by the task that wrote it (results are JSON, shaped by their handler). */
const resultOf = <T>(done: Readonly<Record<string, TaskResult>>, id: string): T | undefined =>
  done[id] as unknown as T | undefined;

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
    const probe = resultOf<ProbeTaskResult>(done, 'probe');
    if (!probe) return [{ id: 'probe', kind: 'probe', params: {} }];
    if (!probe.media.video) return loudnormStage(probe, done);

    const split = resultOf<SplitTaskResult>(done, 'split');
    if (!split) {
      return [{ id: 'split', kind: 'split', params: { media: probe.media } }];
    }

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
        ...transcodes.map(
          ({ id, segment }): TaskSpec => ({
            id,
            kind: 'transcode',
            params: {
              segment,
              media: probe.media,
              renditions: probe.renditions,
              stageTasks: transcodes.length,
            },
          }),
        ),
        ...(needsAudio
          ? [
              {
                id: 'audio',
                kind: 'audio',
                params: { media: probe.media, durationSeconds: split.duration },
              },
            ]
          : []),
        { id: 'thumbnails', kind: 'thumbnails', params: { media: probe.media } },
      ];
    }

    const audio = resultOf<AudioTaskResult>(done, 'audio')?.audio ?? null;
    const merges = probe.renditions.map((rendition) => ({
      id: mergeTaskId(rendition.name),
      rendition,
    }));
    const audioRenditions = cmafAudio(job, probe, audio);
    if (merges.some((m) => !done[m.id]) || audioRenditions.some((a) => !done[a.id])) {
      return [
        ...audioRenditions,
        ...merges.map(
          ({ id, rendition }): TaskSpec => ({
            id,
            kind: 'merge',
            params: {
              rendition,
              audio,
              pieces: split.segments.map((s) => ({
                name: resultOf<TranscodeTaskResult>(done, transcodeTaskId(s.index))!.files[
                  rendition.name
                ],
                duration: s.duration,
              })),
            },
          }),
        ),
      ];
    }

    if (!done['master']) {
      const variants = merges.map((m) => resultOf<MergeTaskResult>(done, m.id)!.variant);
      const audio = audioRenditions.map(
        (a) => resultOf<AudioRenditionTaskResult>(done, a.id)!.rendition,
      );
      return [{ id: 'master', kind: 'master', params: { variants, audio } }];
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
    {
      id: 'audio-rendition-0',
      kind: 'audio-rendition',
      params: {
        audio,
        name: 'audio-0',
        language: null,
        label: 'Audio',
        channels: 2,
        sampleRate: 48_000,
      },
    },
  ];
}

/** An audio preset: probe, then loudness-normalised encodes. */
export const audioWorkflow: Workflow = {
  kind: 'audio',
  stageWeights: [1, 9],
  next(_job, done: Readonly<Record<string, TaskResult>>) {
    const probe = resultOf<ProbeTaskResult>(done, 'probe');
    if (!probe) return [{ id: 'probe', kind: 'probe', params: {} }];
    return loudnormStage(probe, done);
  },
};

function loudnormStage(
  probe: ProbeTaskResult,
  done: Readonly<Record<string, TaskResult>>,
): TaskSpec[] {
  return done['loudnorm']
    ? []
    : [{ id: 'loudnorm', kind: 'loudnorm', params: { media: probe.media } }];
}
