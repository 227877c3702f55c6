import { describe, expect, it } from 'vitest';
import { parseFfprobeJson } from '../../functions/video/media-info.js';
import {
  fittedFps,
  measuredFrameRate,
  needsMeasuredRate,
} from '../../functions/video/packet-timing.js';

/** Frame times on a 1 ms clock: `count` frames at `fps`, each moved by up to `jitter` seconds. */
function clockTimes(count: number, fps: number, jitter = 0): number[] {
  // A fixed pseudo-random sequence, so the test is the same on every run.
  let seed = 7;
  const next = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  return Array.from(
    { length: count },
    (_, k) => Math.round((k / fps + jitter * next()) * 1000) / 1000,
  );
}

describe('measuredFrameRate', () => {
  it('finds 30 fps under 20 ms of jitter on a 1 ms clock (WMV with r_frame_rate 1000/1)', () => {
    expect(measuredFrameRate(clockTimes(300, 30, 0.02))).toEqual({ num: 30, den: 1 });
  });

  it('tells NTSC 29.97 from 30 on a 1 ms clock', () => {
    expect(measuredFrameRate(clockTimes(300, 30000 / 1001))).toEqual({ num: 30000, den: 1001 });
    expect(measuredFrameRate(clockTimes(300, 24000 / 1001))).toEqual({ num: 24000, den: 1001 });
  });

  it('snaps to a whole rate that is not a broadcast one (a 15 fps screen recording)', () => {
    expect(measuredFrameRate(clockTimes(100, 15, 0.005))).toEqual({ num: 15, den: 1 });
  });

  it('keeps a rate near no whole rate, to a thousandth of a frame', () => {
    expect(measuredFrameRate(clockTimes(100, 12.5))).toEqual({ num: 12500, den: 1000 });
  });

  it('takes times in any order, ignores repeats, needs 3 frames', () => {
    const times = clockTimes(90, 25);
    expect(measuredFrameRate([...times, ...times].reverse())).toEqual({ num: 25, den: 1 });
    expect(measuredFrameRate([0, 0.04])).toBeNull();
    expect(fittedFps([0, 0.04])).toBeUndefined();
  });
});

describe('needsMeasuredRate', () => {
  it('measures when there is no average, or the rate is past the limit', () => {
    expect(needsMeasuredRate({ frameRateFrom: 'base', fps: 30 }, 240)).toBe(true);
    expect(needsMeasuredRate({ frameRateFrom: 'average', fps: 1000 }, 240)).toBe(true);
    expect(needsMeasuredRate({ frameRateFrom: 'average', fps: 0 }, 240)).toBe(true);
    expect(needsMeasuredRate({ frameRateFrom: 'average', fps: 29.97 }, 240)).toBe(false);
    // Results stored before the field existed.
    expect(needsMeasuredRate({ fps: 30 }, 240)).toBe(false);
  });
});

describe('the declared rate', () => {
  it('records that the rate is only ffprobe`s base guess when it has no average', () => {
    const stream = {
      index: 0,
      codec_type: 'video',
      codec_name: 'wmv2',
      width: 560,
      height: 320,
      avg_frame_rate: '0/0',
      r_frame_rate: '1000/1',
    };
    const info = parseFfprobeJson(
      { format: { format_name: 'asf', duration: '5.5' }, streams: [stream] },
      1000,
    );
    expect(info.video).toMatchObject({ fps: 1000, frameRateFrom: 'base' });
  });
});
