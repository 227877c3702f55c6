import { describe, expect, it } from 'vitest';
import { videoEncoderArgs } from '../../functions/ffmpeg/args/video-encoders.js';
import { av1CodecString, hevcCodecString } from '../../functions/video/codec-string.js';
import { codecSets, computeLadder } from '../../functions/video/ladder.js';
import { buildMasterPlaylist } from '../../functions/video/master-playlist.js';
import { codecOfString, variantScore } from '../../functions/video/video-codecs.js';

describe('codec sets', () => {
  const ladder = computeLadder(
    { displayWidth: 1920, displayHeight: 1080 },
    { heights: [720, 360] },
  );

  it('repeats the ladder per codec, H.264 unchanged, the others named and capped lower', () => {
    const sets = codecSets(ladder, ['h264', 'av1', 'hevc']);
    expect(sets.slice(0, 2)).toEqual(ladder);
    expect(sets.map((r) => r.name)).toEqual([
      '720p',
      '360p',
      '720p-av1',
      '360p-av1',
      '720p-hevc',
      '360p-hevc',
    ]);
    expect(sets[2]).toMatchObject({
      width: 1280,
      height: 720,
      codec: 'av1',
      maxBitrate: 1_800_000,
    });
    expect(sets[4]).toMatchObject({ codec: 'hevc', maxBitrate: 2_100_000 });
    expect(codecSets(ladder, ['h264'])).toEqual(ladder);
  });

  it('reads RFC 6381 strings from hvcC and av1C records', () => {
    // hvcC: version 1, Main profile (space 0, tier Main), compatibility flags 0x60000000,
    // constraint bytes B0 00 00 00 00 00, level 93 (3.1).
    const hvcC = Uint8Array.from([1, 0x01, 0x60, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 93]);
    expect(hevcCodecString(hvcC)).toBe('hvc1.1.6.L93.B0');
    const main10High = Uint8Array.from([1, 0x22, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 150]);
    expect(hevcCodecString(main10High)).toBe('hvc1.2.4.H150');
    // av1C: marker+version, profile 0 level 8, then tier/bit-depth flags.
    expect(av1CodecString(Uint8Array.from([0x81, 0x08, 0x0c]))).toBe('av01.0.08M.08');
    expect(av1CodecString(Uint8Array.from([0x81, 0x0d, 0xc0]))).toBe('av01.0.13H.10');
    expect(codecOfString('hvc1.1.6.L93.B0,mp4a.40.2')).toBe('hevc');
    expect(codecOfString('av01.0.08M.08')).toBe('av1');
    expect(codecOfString('avc1.64001F')).toBe('h264');
  });

  it('forces keyframes the same way for every encoder: no scene cuts, closed GOPs', () => {
    const out = { maxBitrate: 1_000_000, bufferBits: 2_000_000, threads: 2 };
    const settings = { x264Preset: 'veryfast', crf: 23 };
    expect(videoEncoderArgs('h264', settings, out, 50, 0.4)).toEqual(
      expect.arrayContaining(['libx264', '-sc_threshold', '0', '+cgop', 'vbv-init=0.4']),
    );
    const hevc = videoEncoderArgs('hevc', settings, out, 50, 0.4);
    expect(hevc).toEqual(expect.arrayContaining(['libx265', '-forced-idr', '1', 'hvc1']));
    expect(hevc[hevc.indexOf('-x265-params') + 1]).toBe(
      'scenecut=0:open-gop=0:log-level=error:pools=2:vbv-init=0.4',
    );
    expect(videoEncoderArgs('av1', settings, out, 50)).toEqual(
      expect.arrayContaining(['libaom-av1', '-keyint_min', '50', '-b:v', '1000k', '-maxrate']),
    );
  });

  it('lists the most efficient set first and scores size above codec', () => {
    const variant = (codecs: string, height: number, bandwidth: number) => ({
      uri: `${height}-${codecs.slice(0, 4)}/index.m3u8`,
      bandwidth,
      averageBandwidth: bandwidth,
      width: (height * 16) / 9,
      height,
      codecs,
      frameRate: 25,
    });
    const h264 = codecOfString('avc1.64001F');
    const av1 = codecOfString('av01.0.08M.08');
    const text = buildMasterPlaylist([
      { ...variant('avc1.64001F', 720, 3e6), preference: 1, score: variantScore(2, h264) },
      { ...variant('avc1.64001E', 360, 8e5), preference: 1, score: variantScore(1, h264) },
      { ...variant('av01.0.08M.08', 720, 2e6), preference: 3, score: variantScore(2, av1) },
    ]);
    const listed = text.split('\n').filter((l) => l.endsWith('.m3u8') && !l.startsWith('#'));
    expect(listed).toEqual(['720-av01/index.m3u8', '360-avc1/index.m3u8', '720-avc1/index.m3u8']);
    expect(text).toContain('SCORE=2.50');
    expect(variantScore(2, h264)).toBeGreaterThan(variantScore(1, av1));
  });
});
