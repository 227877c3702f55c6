import { describe, expect, it } from 'vitest';
import { transcodeLadderArgs } from '../../functions/ffmpeg/args/transcode-ladder.js';
import { encoderThreads } from '../../pipeline/tasks/transcode.js';

describe('x264 threads per rendition', () => {
  it("splits a task's share of the cores across its encoders, one thread at the least", () => {
    expect(encoderThreads(2, 4, 2)).toBe(1);
    expect(encoderThreads(1, 1, 16)).toBe(16);
    expect(encoderThreads(2, 4, 16)).toBe(2);
    expect(encoderThreads(16, 3, 16)).toBe(1);
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
    expect(withThreads.filter((a, i) => withThreads[i - 1] === '-threads')).toEqual(['1', '1']);
    expect(transcodeLadderArgs(spec, 30)).not.toContain('-threads');
  });
});
