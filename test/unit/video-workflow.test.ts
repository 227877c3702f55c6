import { describe, expect, it } from 'vitest';
import type { JobSpec, TaskResult } from '../../pipeline/plan/types.js';
import { audioWorkflow } from '../../pipeline/plan/audio-workflow.js';
import { videoWorkflow } from '../../pipeline/plan/video-workflow.js';
import { presetSchema } from '../../pipeline/presets/schema.js';

const job = { id: 'j1', preset: presetSchema.parse({ name: 'video', kind: 'video' }) } as JobSpec;
// Whole shapes: the workflow reads stored results through their TaskKinds schemas.
const media = (video: boolean, audio: boolean) => ({
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  demuxer: 'mov',
  duration: 12,
  startTime: 0,
  sizeBytes: 1_000_000,
  bitRate: 3_000_000,
  streamCount: 2,
  video: video
    ? {
        index: 0,
        codec: 'h264',
        profile: 'High',
        width: 1280,
        height: 720,
        displayWidth: 1280,
        displayHeight: 720,
        rotation: 0 as const,
        sampleAspectRatio: { num: 1, den: 1 },
        frameRate: { num: 30, den: 1 },
        fps: 30,
        baseFrameRate: { num: 30, den: 1 },
        pixFmt: 'yuv420p',
        startTime: 0,
        duration: 12,
        frameCount: 360,
        bitRate: 2_800_000,
      }
    : null,
  audio: audio
    ? {
        index: 1,
        codec: 'aac',
        channels: 2,
        sampleRate: 48_000,
        startTime: 0,
        duration: 12,
        bitRate: 128_000,
      }
    : null,
});
const variant = (name: string) => ({
  name,
  width: 1280,
  height: 720,
  bandwidth: 3_000_000,
  averageBandwidth: 2_500_000,
  codecs: 'avc1.64001F,mp4a.40.2',
  frameRate: 30,
  uri: `${name}/index.m3u8`,
});
const audioRendition = {
  folder: 'audio-0',
  codec: 'mp4a.40.2',
  timescale: 48_000,
  segments: [{ t: 0, d: 288_000 }],
  bandwidth: 130_000,
  averageBandwidth: 128_000,
  channels: 2,
  sampleRate: 48_000,
  language: null,
  label: 'Audio',
};
const renditions = [
  { name: '720p', width: 1280, height: 720, maxBitrate: 3e6, bufferBits: 6e6 },
  { name: '360p', width: 640, height: 360, maxBitrate: 8e5, bufferBits: 1.6e6 },
];
const segments = [0, 1, 2].map((index) => ({
  index,
  name: `seg-${index}.nut`,
  format: 'nut',
  start: index * 4,
  duration: 4,
  frameCount: 120,
}));

/** Runs the plan to the end, answering each task with what its handler would return. */
function runToEnd(
  answer: (kind: string, id: string, params: Record<string, unknown>) => TaskResult,
  hasVideo = true,
  spec: JobSpec = job,
): string[][] {
  const done: Record<string, TaskResult> = {};
  const stages: string[][] = [];
  for (let guard = 0; guard < 10; guard++) {
    const tasks = (hasVideo ? videoWorkflow : audioWorkflow).next(spec, done);
    if (tasks.length === 0) return stages;
    stages.push(tasks.map((t) => t.id));
    for (const t of tasks) done[t.id] = answer(t.kind, t.id, t.params);
  }
  throw new Error('the plan did not end');
}

/** Answers a source with audio, two renditions and three segments; records each task's params. */
const answerTwoRenditions =
  (seen: Record<string, Record<string, unknown>>) =>
  (kind: string, id: string, params: Record<string, unknown>): TaskResult => {
    seen[id] = params;
    if (kind === 'probe') return { media: media(true, true), renditions };
    if (kind === 'split') return { mode: 'split', duration: 12, segments };
    if (kind === 'audio') return { audio: 'audio.m4a' };
    if (kind === 'transcode')
      return { files: { '720p': `${id}-720p.mp4`, '360p': `${id}-360p.mp4` } };
    if (kind === 'merge') return { variant: variant(id.slice(6)), outputs: [] };
    if (kind === 'audio-rendition') return { rendition: audioRendition, outputs: [] };
    return {};
  };

describe('video workflow', () => {
  it(
    'plans probe, split, a transcode per segment with the audio and thumbnails, a merge per ' +
      'rendition, then the master',
    () => {
      const seen: Record<string, Record<string, unknown>> = {};
      const stages = runToEnd(answerTwoRenditions(seen));
      expect(stages).toEqual([
        ['probe'],
        ['split'],
        ['transcode-0000', 'transcode-0001', 'transcode-0002', 'audio', 'thumbnails'],
        // CMAF (the default): the audio, encoded once, is also its own rendition.
        ['audio-rendition-0', 'merge-720p', 'merge-360p'],
        ['master'],
      ]);
      expect(seen['audio-rendition-0']).toMatchObject({ audio: 'audio.m4a', name: 'audio-0' });
      expect(seen['transcode-0001']).toMatchObject({ segment: segments[1], renditions });
      expect(seen['merge-360p']).toEqual({
        rendition: renditions[1],
        audio: 'audio.m4a',
        // Each piece's frame count goes with it, for the merge's seam check.
        pieces: [0, 1, 2].map((i) => ({
          name: `transcode-000${i}-360p.mp4`,
          duration: 4,
          frameCount: segments[i]!.frameCount,
        })),
      });
      expect(seen['audio']).toMatchObject({ durationSeconds: 12 });
      expect(seen['master']).toEqual({
        variants: [variant('720p'), variant('360p')],
        audio: [audioRendition],
        subtitles: [],
      });
    },
  );

  it('merges without audio when the source has none', () => {
    const seen: Record<string, Record<string, unknown>> = {};
    runToEnd((kind, id, params) => {
      seen[id] = params;
      if (kind === 'probe') return { media: media(true, false), renditions: renditions.slice(1) };
      if (kind === 'split') return { mode: 'whole', duration: 3, segments: segments.slice(0, 1) };
      if (kind === 'audio') return { audio: null };
      if (kind === 'transcode') return { files: { '360p': 'x.mp4' } };
      if (kind === 'merge') return { variant: variant('360p'), outputs: [] };
      return {};
    });
    expect(seen['merge-360p']).toMatchObject({ audio: null });
    expect(seen['audio']).toBeUndefined();
  });

  it('keeps the audio muxed in every rendition with MPEG-TS packaging', () => {
    const ts = {
      id: 'j2',
      preset: presetSchema.parse({ name: 'video', kind: 'video', packaging: 'ts' }),
    } as JobSpec;
    const seen: Record<string, Record<string, unknown>> = {};
    const stages = runToEnd(answerTwoRenditions(seen), true, ts);
    expect(stages[3]).toEqual(['merge-720p', 'merge-360p']);
    expect(seen['master']).toEqual({
      variants: [variant('720p'), variant('360p')],
      audio: [],
      subtitles: [],
    });
  });

  it('sends an audio-only source down the loudness path', () => {
    const stages = runToEnd((kind) =>
      kind === 'probe' ? { media: media(false, true), renditions: [] } : {},
    );
    expect(stages).toEqual([['probe'], ['loudnorm']]);
    expect(
      runToEnd(
        (kind) => (kind === 'probe' ? { media: media(true, true), renditions: [] } : {}),
        false,
      ),
    ).toEqual([['probe'], ['loudnorm']]);
  });
});
