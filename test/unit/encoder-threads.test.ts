import { describe, expect, it } from 'vitest';
import { transcodeLadderArgs } from '../../functions/ffmpeg/args/transcode-ladder.js';
import { encoderThreads } from '../../pipeline/tasks/transcode.js';

describe('x264 threads per rendition', () => {
  const rung = (height: number) => ({ width: Math.round((height * 16) / 9), height });
  const ladder = [rung(1080), rung(720), rung(480), rung(360)];

  it('gives each encoder one thread when tasks already fill the cores', () => {
    expect(encoderThreads({ concurrency: 2, stageTasks: 6, renditions: ladder, cores: 2 })).toEqual(
      [1, 1, 1, 1],
    );
    expect(
      encoderThreads({ concurrency: 16, stageTasks: 40, renditions: ladder, cores: 16 }),
    ).toEqual([1, 1, 1, 1]);
  });

  it('sizes the share from the tasks that exist, not the configured concurrency', () => {
    // 6 pieces on 16 slots: each task gets 16/6 cores, most of them for the top rung.
    expect(
      encoderThreads({ concurrency: 16, stageTasks: 6, renditions: ladder, cores: 16 }),
    ).toEqual([2, 1, 1, 1]);
    // One piece alone: the whole machine, split by pixels.
    expect(
      encoderThreads({ concurrency: 16, stageTasks: 1, renditions: ladder, cores: 16 }),
    ).toEqual([10, 4, 2, 1]);
    expect(
      encoderThreads({ concurrency: 1, stageTasks: 1, renditions: [rung(720)], cores: 16 }),
    ).toEqual([16]);
  });

  it('shares threads by work: an HEVC rung gets more than the H.264 one of its size', () => {
    const rung = { width: 1280, height: 720 };
    expect(
      encoderThreads({
        concurrency: 1,
        stageTasks: 1,
        renditions: [rung, { ...rung, codec: 'hevc' as const }],
        cores: 7,
      }),
    ).toEqual([2, 5]);
  });

  it('keeps each encoder of a piece under the ceiling it is given', () => {
    expect(
      encoderThreads({
        concurrency: 16,
        stageTasks: 1,
        renditions: ladder,
        cores: 16,
        maxPerEncoder: 4,
      }),
    ).toEqual([4, 4, 2, 1]);
  });

  it('passes the count to every encoder, and leaves x264 to choose when unset', () => {
    const spec = {
      input: { file: '/s/seg.nut', format: 'nut' },
      rotation: 0 as const,
      rotate: 'explicit' as const,
      outputs: [
        { width: 640, height: 360, maxBitrate: 8e5, bufferBits: 1.6e6, file: '/s/a.mp4' },
        { width: 426, height: 240, maxBitrate: 4e5, bufferBits: 8e5, file: '/s/b.mp4' },
      ],
      forceKeyframesAt: [],
      encoder: { preset: 'veryfast' as const, crf: 23, gopFrames: 60 },
    };
    const withThreads = transcodeLadderArgs(
      { ...spec, encoder: { ...spec.encoder, threads: 1 } },
      30,
    );
    expect(withThreads.filter((_, i) => withThreads[i - 1] === '-threads')).toEqual(['1', '1']);
    expect(transcodeLadderArgs(spec, 30)).not.toContain('-threads');
  });
});
