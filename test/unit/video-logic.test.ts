import { Parser } from 'm3u8-parser';
import { describe, expect, it } from 'vitest';
import { ProgressParser, tailLines } from '../../functions/ffmpeg/run-process.js';
import { avcCodecString, avcCodecStringFromMoov } from '../../functions/video/codec-string.js';
import { parseMediaPlaylist } from '../../functions/video/hls-playlist.js';
import {
  checkContainer,
  checkLimits,
  effectiveAllowList,
  DEFAULT_ALLOWED_CONTAINERS,
  type ProbeLimits,
} from '../../functions/video/limits.js';
import { buildMasterPlaylist, type MasterVariant } from '../../functions/video/master-playlist.js';
import { parseFfprobeJson, parseRotation } from '../../functions/video/media-info.js';
import { hlsBitrates } from '../../functions/video/cmaf-playlists.js';
import { closedKeyframeTimes, parsePacketCsv } from '../../functions/video/packets.js';
import { sniffBytes } from '../../functions/video/sniff.js';
import { checkPieces, muxerCutTimes } from '../../functions/video/split.js';
import { planSplit } from '../../functions/video/split-plan.js';
import { keyframeTimesInSegment } from '../../functions/video/transcode.js';
import { spriteLayout, spriteVtt, vttTime } from '../../functions/video/thumbnails.js';
import { MediaflowError } from '../../functions/errors.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('sniffBytes', () => {
  it('refuses playlists and lists wherever they hide in the head', () => {
    expect(sniffBytes(text('#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n'))).toEqual({
      kind: 'reference-list',
      what: 'an HLS/M3U playlist',
    });
    const junk = new Uint8Array([0, 1, 2, 3, 0xff, ...text('\n#EXT-X-MEDIA-SEQUENCE:0\n')]);
    expect(sniffBytes(junk).kind).toBe('reference-list');
    expect(sniffBytes(text('ffconcat version 1.0\nfile /etc/passwd\n')).kind).toBe(
      'reference-list',
    );
    expect(sniffBytes(text("file '/etc/passwd'\nfile 'b.mp4'\n")).kind).toBe('reference-list');
    expect(sniffBytes(text('\ufeff<?xml version="1.0"?><MPD>...</MPD>')).kind).toBe(
      'reference-list',
    );
    expect(sniffBytes(text('v=0\no=- 0 0 IN IP4 127.0.0.1\nc=IN IP4 10.0.0.1\n')).kind).toBe(
      'reference-list',
    );
  });
  it('calls plain text text, and binary media binary', () => {
    expect(sniffBytes(text('hello, this is not a video at all\n'.repeat(5)))).toEqual({
      kind: 'text',
    });
    // An MP4 header: size, 'ftyp', brand, NULs.
    expect(
      sniffBytes(
        new Uint8Array([
          0,
          0,
          0,
          0x20,
          ...text('ftypisom'),
          0,
          0,
          2,
          0,
          ...text('isomiso2avc1mp41'),
        ]),
      ),
    ).toEqual({ kind: 'binary' });
    // MP3 frame sync is not UTF-8.
    expect(
      sniffBytes(new Uint8Array([0xff, 0xfb, 0x90, 0x64, ...new Array(40).fill(0x41)])),
    ).toEqual({ kind: 'binary' });
  });
});

describe('parseFfprobeJson', () => {
  const rotated = {
    format: {
      format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
      duration: '12.000000',
      start_time: '0.000000',
      nb_streams: 2,
    },
    streams: [
      {
        index: 0,
        codec_type: 'video',
        codec_name: 'h264',
        width: 640,
        height: 360,
        sample_aspect_ratio: '1:1',
        avg_frame_rate: '30000/1001',
        r_frame_rate: '30000/1001',
        pix_fmt: 'yuv420p',
        duration: '12.0',
        side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }],
      },
      {
        index: 1,
        codec_type: 'audio',
        codec_name: 'aac',
        channels: 2,
        sample_rate: '48000',
        start_time: '-0.021333',
      },
    ],
  };
  it('reads display size after rotation, fps as a rational, audio', () => {
    const info = parseFfprobeJson(rotated, 1234);
    expect(info.demuxer).toBe('mov');
    expect(info.video).toMatchObject({
      width: 640,
      height: 360,
      displayWidth: 360,
      displayHeight: 640,
      rotation: 90,
      frameRate: { num: 30000, den: 1001 },
    });
    expect(info.video!.fps).toBeCloseTo(29.97, 2);
    expect(info.audio).toMatchObject({
      codec: 'aac',
      channels: 2,
      sampleRate: 48000,
      startTime: -0.021333,
    });
    expect(info.streamCount).toBe(2);
  });
  it('reads the old rotate tag (clockwise) and the display matrix (counter-clockwise)', () => {
    expect(parseRotation({ tags: { rotate: '90' } })).toBe(90);
    expect(parseRotation({ tags: { rotate: '-90' } })).toBe(270);
    expect(
      parseRotation({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] }),
    ).toBe(270);
    expect(
      parseRotation({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 180 }] }),
    ).toBe(180);
    expect(parseRotation({})).toBe(0);
  });
  it('applies the sample aspect ratio and skips cover art', () => {
    const info = parseFfprobeJson(
      {
        format: { format_name: 'matroska,webm', duration: '5' },
        streams: [
          {
            index: 0,
            codec_type: 'video',
            codec_name: 'mjpeg',
            width: 300,
            height: 300,
            disposition: { attached_pic: 1 },
          },
          {
            index: 1,
            codec_type: 'video',
            codec_name: 'mpeg2video',
            width: 720,
            height: 576,
            sample_aspect_ratio: '16:15',
            avg_frame_rate: '25/1',
          },
        ],
      },
      1,
    );
    expect(info.video).toMatchObject({ index: 1, displayWidth: 768, displayHeight: 576 });
    expect(info.audio).toBeNull();
  });
  it('treats a file with only cover art as audio-only, and one with nothing as unreadable', () => {
    const audioOnly = parseFfprobeJson(
      {
        format: { format_name: 'mp3', duration: '3' },
        streams: [
          {
            codec_type: 'video',
            codec_name: 'png',
            width: 10,
            height: 10,
            disposition: { attached_pic: 1 },
          },
          { codec_type: 'audio', codec_name: 'mp3', channels: 2, sample_rate: '44100' },
        ],
      },
      1,
    );
    expect(audioOnly.video).toBeNull();
    expect(() => parseFfprobeJson({ format: { format_name: 'mov' }, streams: [] }, 1)).toThrow(
      MediaflowError,
    );
    expect(() =>
      parseFfprobeJson(
        {
          format: { format_name: 'mov', duration: 'N/A' },
          streams: [{ codec_type: 'audio', channels: 1 }],
        },
        1,
      ),
    ).toThrow('no known duration');
  });
});

describe('limits and containers', () => {
  const limits: ProbeLimits = {
    maxInputBytes: 1000,
    maxDurationSeconds: 60,
    maxPixels: 1920 * 1080,
    maxFps: 60,
    maxStreams: 4,
  };
  const info = parseFfprobeJson(
    {
      format: { format_name: 'mov,mp4', duration: '10', nb_streams: 2 },
      streams: [{ codec_type: 'video', width: 1920, height: 1080, avg_frame_rate: '30/1' }],
    },
    500,
  );
  const code = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      return (error as MediaflowError).code;
    }
    return 'OK';
  };
  it('passes a source within every limit', () =>
    expect(code(() => checkLimits(info, limits))).toBe('OK'));
  it('refuses each limit', () => {
    expect(code(() => checkLimits({ ...info, sizeBytes: 1001 }, limits))).toBe(
      'MEDIA_LIMIT_EXCEEDED',
    );
    expect(code(() => checkLimits({ ...info, duration: 61 }, limits))).toBe('MEDIA_LIMIT_EXCEEDED');
    expect(code(() => checkLimits({ ...info, streamCount: 5 }, limits))).toBe(
      'MEDIA_LIMIT_EXCEEDED',
    );
    expect(
      code(() =>
        checkLimits(
          { ...info, video: { ...info.video!, width: 100_000, height: 100_000 } },
          limits,
        ),
      ),
    ).toBe('MEDIA_LIMIT_EXCEEDED');
    expect(code(() => checkLimits({ ...info, video: { ...info.video!, fps: 1000 } }, limits))).toBe(
      'MEDIA_LIMIT_EXCEEDED',
    );
  });
  it(
    'refuses reference-following demuxers even when ' + 'allowed, and unlisted ones as unsupported',
    () => {
      expect(code(() => checkContainer('hls', ['hls', 'mov']))).toBe('MEDIA_REFUSED');
      expect(code(() => checkContainer('concat', DEFAULT_ALLOWED_CONTAINERS))).toBe(
        'MEDIA_REFUSED',
      );
      expect(code(() => checkContainer('image2', DEFAULT_ALLOWED_CONTAINERS))).toBe(
        'MEDIA_REFUSED',
      );
      expect(code(() => checkContainer('png_pipe', DEFAULT_ALLOWED_CONTAINERS))).toBe(
        'MEDIA_REFUSED',
      );
      expect(code(() => checkContainer('tty', DEFAULT_ALLOWED_CONTAINERS))).toBe('MEDIA_REFUSED');
      expect(code(() => checkContainer('gif', DEFAULT_ALLOWED_CONTAINERS))).toBe(
        'MEDIA_UNSUPPORTED',
      );
      expect(
        code(() => checkContainer('mov,mp4,m4a,3gp,3g2,mj2', DEFAULT_ALLOWED_CONTAINERS)),
      ).toBe('OK');
      expect(effectiveAllowList(['mov', 'hls', 'concat', 'Matroska'])).toEqual(['mov', 'matroska']);
    },
  );
});

describe('packets and split planning', () => {
  it('parses ffprobe packet CSV', () => {
    expect(parsePacketCsv('0.000000,-0.066667,0.033333,K__\nN/A,0.1,,__\n\n')).toEqual([
      { pts: 0, dts: -0.066667, duration: 0.033333, keyframe: true },
      { pts: null, dts: 0.1, duration: null, keyframe: false },
    ]);
  });
  it('keeps only keyframes without leading pictures (closed GOPs)', () => {
    const packet = (pts: number, keyframe = false) => ({
      pts,
      dts: null,
      duration: null,
      keyframe,
    });
    // Decode order: I0 P3 B1 B2 | I6 (open: B4 B5 follow with earlier pts) P9 B7 B8 | I12 P15 B13
    // B14
    const packets = [
      packet(0, true),
      packet(3),
      packet(1),
      packet(2),
      packet(6, true),
      packet(9),
      packet(4),
      packet(5),
      packet(7),
      packet(12, true),
      packet(15),
      packet(13),
      packet(14),
    ];
    expect(closedKeyframeTimes(packets)).toEqual([0, 12]);
  });
  it('cuts about every segmentSeconds at keyframes, leaves short sources whole', () => {
    const keys = [0, 2, 4, 6, 8, 10];
    expect(planSplit(keys, 12, { segmentSeconds: 4, maxSegments: 100 }).cuts).toEqual([4, 8]);
    expect(planSplit(keys, 12, { segmentSeconds: 5, maxSegments: 100 }).cuts).toEqual([6]);
    expect(planSplit(keys, 7, { segmentSeconds: 4, maxSegments: 100 }).cuts).toEqual([]);
    expect(planSplit([0], 60, { segmentSeconds: 4, maxSegments: 100 }).cuts).toEqual([]);
  });
  it('grows the segment length to respect maxSegments', () => {
    const keys = Array.from({ length: 600 }, (_, i) => i);
    const plan = planSplit(keys, 600, { segmentSeconds: 2, maxSegments: 10 });
    expect(plan.targetSeconds).toBe(60);
    expect(plan.cuts.length + 1).toBeLessThanOrEqual(10);
    expect(plan.cuts[0]).toBe(60);
  });
  it('sizes pieces to the task slots: about three per slot, never under segmentSeconds', () => {
    const keys = Array.from({ length: 300 }, (_, i) => i);
    const few = planSplit(keys, 300, { segmentSeconds: 6, maxSegments: 200, slots: 2 });
    expect(few.targetSeconds).toBe(50);
    expect(few.cuts.length + 1).toBe(6);
    const many = planSplit(keys, 300, { segmentSeconds: 6, maxSegments: 200, slots: 16 });
    expect(many.targetSeconds).toBe(6.25);
    expect(
      planSplit(keys, 40, { segmentSeconds: 6, maxSegments: 200, slots: 16 }).targetSeconds,
    ).toBe(6);
  });
  it('prefers cuts on the HLS grid up to one target further', () => {
    const keys = [0, 0.8, 1.6, 2.4, 3.2, 4.0, 4.8];
    expect(planSplit(keys, 5.5, { segmentSeconds: 2, maxSegments: 50 }).cuts).toEqual([2.4]);
    expect(
      planSplit(keys, 5.5, { segmentSeconds: 2, maxSegments: 50, alignSeconds: 2 }).cuts,
    ).toEqual([4]);
    const every = [0, 1.5, 3, 4.5, 6, 7.5, 9, 10.5];
    expect(
      planSplit(every, 12, { segmentSeconds: 3, maxSegments: 50, alignSeconds: 2 }).cuts,
    ).toEqual([6, 9]);
  });
  it('does not leave a tiny last piece', () => {
    expect(planSplit([0, 4, 8, 11.5], 12, { segmentSeconds: 4, maxSegments: 100 }).cuts).toEqual([
      4, 8,
    ]);
  });
  it('places muxer cut times halfway to the previous keyframe, on ffmpeg timeline', () => {
    const packets = [0, 2, 4, 6].map((t) => ({
      pts: t + 10,
      dts: null,
      duration: null,
      keyframe: true,
    }));
    expect(muxerCutTimes([4], packets, 10, 9.5)).toEqual([3 + 10 - 9.5]);
  });
  it('checks pieces against the plan', () => {
    const p = (pts: number, keyframe = false) => ({ pts, dts: null, duration: null, keyframe });
    const good = [
      [p(1, true), p(2)],
      [p(5, true), p(6)],
    ];
    expect(checkPieces(good, [4], 4)).toBeNull();
    expect(checkPieces(good, [4], 5)).toMatch(/packets/);
    expect(checkPieces(good, [3], 4)).toMatch(/starts at/);
    expect(checkPieces([[p(1, true)], [p(5)]], [4], 2)).toMatch(/keyframe/);
    expect(checkPieces(good, [2, 4], 4)).toMatch(/pieces/);
  });
  it('forces keyframes at HLS boundaries relative to the segment start', () => {
    expect(keyframeTimesInSegment(0, 4, 2)).toEqual([2]);
    expect(keyframeTimesInSegment(4, 4, 2)).toEqual([2]);
    expect(keyframeTimesInSegment(8, 4.5, 2)).toEqual([2, 4]);
    expect(keyframeTimesInSegment(3, 4, 2).map((t) => +t.toFixed(9))).toEqual([1, 3]);
    expect(keyframeTimesInSegment(0, 1.5, 2)).toEqual([]);
  });
});

describe('master playlist', () => {
  const variants: MasterVariant[] = [
    {
      uri: '720p/index.m3u8',
      bandwidth: 3_100_000.2,
      averageBandwidth: 2_500_000,
      width: 1280,
      height: 720,
      codecs: 'avc1.64001F,mp4a.40.2',
      frameRate: 29.97,
    },
    {
      uri: '360p/index.m3u8',
      bandwidth: 900_000,
      averageBandwidth: 700_000,
      width: 640,
      height: 360,
      codecs: 'avc1.64001E,mp4a.40.2',
      frameRate: 29.97,
    },
  ];
  it('writes one STREAM-INF per rendition, sorted by bandwidth', () => {
    expect(buildMasterPlaylist(variants)).toBe(
      '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n' +
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=700000,RESOLUTION=640x360,' +
        'CODECS="avc1.64001E,mp4a.40.2",FRAME-RATE=29.970\n360p/index.m3u8\n' +
        '#EXT-X-STREAM-INF:BANDWIDTH=3100001,AVERAGE-BANDWIDTH=2500000,RESOLUTION=1280x720,' +
        'CODECS="avc1.64001F,mp4a.40.2",FRAME-RATE=29.970\n720p/index.m3u8\n',
    );
  });
  it('parses with m3u8-parser', () => {
    const parser = new Parser();
    parser.push(buildMasterPlaylist(variants));
    parser.end();
    const playlists = parser.manifest.playlists!;
    expect(playlists.map((p) => p.uri)).toEqual(['360p/index.m3u8', '720p/index.m3u8']);
    expect(playlists[1]!.attributes).toMatchObject({
      BANDWIDTH: 3100001,
      'AVERAGE-BANDWIDTH': '2500000',
      RESOLUTION: { width: 1280, height: 720 },
      CODECS: 'avc1.64001F,mp4a.40.2',
      'FRAME-RATE': 29.97,
    });
  });
  it('refuses unsafe URIs and codec strings', () => {
    expect(() => buildMasterPlaylist([{ ...variants[0]!, uri: '../x.m3u8' }])).toThrow(
      'relative playlist path',
    );
    expect(() => buildMasterPlaylist([{ ...variants[0]!, codecs: 'a"\n#EXT' }])).toThrow('codec');
    expect(() => buildMasterPlaylist([])).toThrow();
  });
});

describe('media playlist, bitrates, codec strings', () => {
  it('parses what the HLS muxer writes', () => {
    const playlist = parseMediaPlaylist(
      '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n' +
        '#EXTINF:2.000000,\nseg-00000.ts\n#EXTINF:1.5,\nseg-00001.ts\n#EXT-X-ENDLIST\n',
    );
    expect(playlist).toEqual({
      version: 6,
      targetDuration: 2,
      endList: true,
      segments: [
        { uri: 'seg-00000.ts', duration: 2 },
        { uri: 'seg-00001.ts', duration: 1.5 },
      ],
    });
    expect(() => parseMediaPlaylist('nope')).toThrow();
  });
  it('takes the peak over whole segments and the average over all', () => {
    expect(
      hlsBitrates([
        { duration: 2, bytes: 250_000 },
        { duration: 2, bytes: 500_000 },
        { duration: 0.1, bytes: 100_000 },
      ]),
    ).toEqual({ peak: 2_000_000, average: Math.ceil((850_000 * 8) / 4.1) });
  });
  it('formats avc1.PPCCLL from avcC bytes', () => {
    expect(avcCodecString(100, 0, 31)).toBe('avc1.64001F');
    expect(avcCodecString(66, 0xc0, 30)).toBe('avc1.42C01E');
    const moov = new Uint8Array([0, 0, 0, 0, ...text('avcC'), 1, 0x64, 0x00, 0x28, 0xff]);
    expect(avcCodecStringFromMoov(moov)).toBe('avc1.640028');
    expect(avcCodecStringFromMoov(text('no record here'))).toBeNull();
  });
});

describe('sprite layout and WebVTT', () => {
  it('spaces thumbnails and grows the interval for long videos', () => {
    expect(spriteLayout(12, 2, 100, 10)).toEqual({
      count: 6,
      intervalSeconds: 2,
      columns: 6,
      rows: 1,
    });
    expect(spriteLayout(3600, 10, 100, 10)).toEqual({
      count: 100,
      intervalSeconds: 36,
      columns: 10,
      rows: 10,
    });
    expect(spriteLayout(0.5, 10, 100, 10).count).toBe(1);
  });
  it('writes xywh fragments on the grid', () => {
    const vtt = spriteVtt(
      { count: 3, intervalSeconds: 5, columns: 2, rows: 2 },
      12,
      160,
      90,
      'sprite.jpg',
    );
    expect(vtt).toBe(
      'WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nsprite.jpg#xywh=0,0,160,90\n\n00:00:05.000 --> ' +
        '00:00:10.000\nsprite.jpg#xywh=160,0,160,90\n\n00:00:10.000 --> ' +
        '00:00:12.000\nsprite.jpg#xywh=0,90,160,90\n',
    );
    expect(vttTime(3725.5)).toBe('01:02:05.500');
  });
});

describe('run-process helpers', () => {
  it('reports progress from -progress blocks, monotonic, ending at 1', () => {
    const seen: number[] = [];
    const parser = new ProgressParser({ durationSeconds: 10, onProgress: (f) => seen.push(f) });
    parser.push('frame=1\nout_time_us=2500000\nprogress=continue\nout_time_ms=2500');
    parser.push('000\nout_time_us=1000000\nout_time_us=N/A\nout_time_us=7500000\nprogress=end\n');
    expect(seen).toEqual([0.25, 0.75, 1]);
  });
  it('keeps the last lines of stderr', () => {
    const many = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const tail = tailLines(many);
    expect(tail.split('\n')).toHaveLength(30);
    expect(tail.endsWith('line 99')).toBe(true);
    expect(Buffer.byteLength(tailLines('x'.repeat(10_000)))).toBeLessThanOrEqual(4096);
  });
});
