import { describe, expect, it } from 'vitest';
import type { JobSpec, TaskResult } from '../../pipeline/plan/types.js';
import { audioWorkflow, videoWorkflow } from '../../pipeline/plan/video-workflow.js';
import { presetSchema } from '../../pipeline/presets/schema.js';

const job = { id: 'j1', preset: presetSchema.parse({ name: 'video', kind: 'video' }) } as JobSpec;
const media = (video: boolean, audio: boolean) => ({
  video: video ? { fps: 30 } : null,
  audio: audio ? { channels: 2 } : null,
});
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
    if (kind === 'merge') return { variant: { name: id.slice(6) }, outputs: [] };
    if (kind === 'audio-rendition') return { rendition: { folder: 'audio-0' }, outputs: [] };
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
        pieces: [0, 1, 2].map((i) => ({ name: `transcode-000${i}-360p.mp4`, duration: 4 })),
      });
      expect(seen['audio']).toMatchObject({ durationSeconds: 12 });
      expect(seen['master']).toEqual({
        variants: [{ name: '720p' }, { name: '360p' }],
        audio: [{ folder: 'audio-0' }],
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
      if (kind === 'merge') return { variant: {}, outputs: [] };
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
    expect(seen['master']).toEqual({ variants: [{ name: '720p' }, { name: '360p' }], audio: [] });
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
