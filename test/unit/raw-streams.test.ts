import { describe, expect, it } from 'vitest';
import { MediaflowError } from '../../functions/errors.js';
import {
  checkContainer,
  DEFAULT_ALLOWED_CONTAINERS,
  isRawVideoStream,
} from '../../functions/video/limits.js';
import { parseFfprobeJson } from '../../functions/video/media-info.js';

describe('raw video elementary streams', () => {
  const raw = {
    format: { format_name: 'h264', duration: 'N/A', nb_streams: 1 },
    streams: [
      {
        index: 0,
        codec_type: 'video',
        codec_name: 'h264',
        width: 560,
        height: 320,
        r_frame_rate: '30/1',
        avg_frame_rate: '30/1',
      },
    ],
  };

  it('are allowed by default', () => {
    for (const demuxer of ['mpegvideo', 'h264', 'hevc', 'm4v']) {
      expect(isRawVideoStream(demuxer)).toBe(true);
      expect(() => checkContainer(demuxer, DEFAULT_ALLOWED_CONTAINERS)).not.toThrow();
    }
    expect(isRawVideoStream('mpeg')).toBe(false);
  });

  it('get their length from the frames counted at the nominal rate', () => {
    const info = parseFfprobeJson(raw, 1000, 166);
    expect(info.duration).toBeCloseTo(166 / 30, 9);
    expect(info.video).toMatchObject({ frameCount: 166, frameRateFrom: 'average' });
    expect(info.video!.duration).toBeCloseTo(166 / 30, 9);
  });

  it('without a count have no known duration', () => {
    expect(() => parseFfprobeJson(raw, 1000)).toThrow(MediaflowError);
  });
});
