import { MediaflowError } from '../../functions/errors.js';
import { renditionLabel } from '../../functions/video/language.js';
import { loudnormStage } from './audio-workflow.js';
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
    const audioTasks = audioEncodes(job, probe);
    const subtitles = isCmaf(job) && (probe.media.subtitleStreams?.length ?? 0) > 0;
    if (
      transcodes.some((t) => !done[t.id]) ||
      audioTasks.some((a) => !done[a.id]) ||
      (subtitles && !done['subtitles']) ||
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
        ...audioTasks.map((a) =>
          planTask(a.id, 'audio', {
            media: probe.media,
            durationSeconds: split.duration,
            ...(a.stream ? { stream: a.stream } : {}),
          }),
        ),
        ...(subtitles
          ? [
              planTask('subtitles', 'subtitles', {
                media: probe.media,
                durationSeconds: split.duration,
              }),
            ]
          : []),
        planTask('thumbnails', 'thumbnails', { media: probe.media }),
      ];
    }

    const audio = resultOf(done, 'audio', 'audio')?.audio ?? null;
    const merges = probe.renditions.map((rendition) => ({
      id: mergeTaskId(rendition.name),
      rendition,
    }));
    const audioRenditions = cmafAudio(
      job,
      probe,
      audioTasks.map((a) => resultOf(done, a.id, 'audio')?.audio ?? null),
    );
    if (merges.some((m) => !done[m.id]) || audioRenditions.some((a) => !done[a.id])) {
      return [
        ...audioRenditions,
        ...merges.map(({ id, rendition }) =>
          planTask(id, 'merge', {
            rendition,
            audio,
            pieces: split.segments.map((s) => {
              const ends = finished(done, transcodeTaskId(s.index), 'transcode').ends?.[
                rendition.name
              ];
              return {
                name: pieceName(done, transcodeTaskId(s.index), rendition.name),
                duration: s.duration,
                // Seam QC: the merge checks frames at each join and records both sides' SSIM.
                frameCount: s.frameCount,
                ...(ends ? { ends } : {}),
              };
            }),
          }),
        ),
      ];
    }

    if (!done['master']) {
      const variants = merges.map((m) => finished(done, m.id, 'merge').variant);
      const audio = audioRenditions.map((a) => finished(done, a.id, 'audio-rendition').rendition);
      const texts = resultOf(done, 'subtitles', 'subtitles')?.subtitles ?? [];
      return [planTask('master', 'master', { variants, audio, subtitles: texts })];
    }
    return [];
  },
};

const isCmaf = ({ preset }: JobSpec) =>
  preset.kind === 'video' && preset.packaging === 'cmaf' && preset.hls;

/**
 * The audio encodes: the first audio stream (muxed into every MP4, and into the TS segments), and
 * with CMAF packaging every other usable stream too, each to become its own audio rendition.
 */
function audioEncodes(job: JobSpec, probe: ProbeTaskResult): Array<{ id: string; stream: number }> {
  if (!probe.media.audio) return [];
  const count = isCmaf(job) ? Math.max(1, probe.media.audioStreams?.length ?? 1) : 1;
  return Array.from({ length: count }, (_, stream) => ({
    id: stream === 0 ? 'audio' : `audio-${stream}`,
    stream,
  }));
}

/**
 * With CMAF packaging each audio stream, encoded once, is also its own rendition beside the video
 * merges: LANGUAGE and NAME from its tags, the first one the default.
 */
function cmafAudio(
  job: JobSpec,
  probe: ProbeTaskResult,
  encoded: Array<string | null>,
): TaskSpec[] {
  if (!isCmaf(job)) return [];
  const streams = probe.media.audioStreams ?? (probe.media.audio ? [probe.media.audio] : []);
  return encoded.flatMap((audio, i) => {
    const stream = streams[i];
    if (!audio || !stream) return [];
    return [
      planTask(`audio-rendition-${i}`, 'audio-rendition', {
        audio,
        name: `audio-${i}`,
        language: stream.language ?? null,
        label: renditionLabel(stream, i),
        // encodeAudio always writes AAC-LC stereo at 48 kHz.
        channels: 2,
        sampleRate: 48_000,
      }),
    ];
  });
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
