import { describe, expect, it } from 'vitest';
import {
  ffmpegGlobalArgs,
  fileUrl,
  inputArgs,
  kbps,
  seconds,
} from '../../functions/ffmpeg/args/common.js';
import { concatListText, mergeArgs } from '../../functions/ffmpeg/args/concat-merge.js';
import { encodeAudioArgs } from '../../functions/ffmpeg/args/encode-audio.js';
import {
  loudnormApplyArgs,
  loudnormMeasureArgs,
  parseLoudnormJson,
} from '../../functions/ffmpeg/args/loudnorm.js';
import {
  decodeCheckArgs,
  probeFormatArgs,
  probePacketsArgs,
} from '../../functions/ffmpeg/args/probe.js';
import { rotationFilters } from '../../functions/ffmpeg/args/rotation.js';
import { splitArgs } from '../../functions/ffmpeg/args/split.js';
import { posterArgs, seekSpriteArgs, spriteArgs } from '../../functions/ffmpeg/args/thumbnails.js';
import { toneMapFilters } from '../../functions/ffmpeg/args/color.js';
import {
  forceKeyframeList,
  ladderFilterGraph,
  transcodeLadderArgs,
} from '../../functions/ffmpeg/args/transcode-ladder.js';
import {
  overlayPosition,
  validateWatermark,
  watermarkDemuxer,
  watermarkGraph,
  type WatermarkSpec,
} from '../../functions/ffmpeg/args/watermark.js';

/** Value following a flag; for flags given once. */
function after(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * Every input (`-i`) must be preceded, within its own option group, by -protocol_whitelist file.
 */
function expectHardenedInputs(args: readonly string[]): void {
  let lastI = -1;
  args.forEach((arg, i) => {
    if (arg !== '-i') return;
    const group = args.slice(lastI + 1, i);
    expect(group).toContain('-protocol_whitelist');
    expect(group[group.indexOf('-protocol_whitelist') + 1]).toBe('file');
    expect(args[i + 1]!.startsWith('file:')).toBe(true);
    lastI = i + 1;
  });
  expect(lastI).toBeGreaterThan(0);
}

describe('common', () => {
  it('starts every ffmpeg command with -nostdin and -hide_banner', () => {
    expect(ffmpegGlobalArgs()).toEqual(expect.arrayContaining(['-nostdin', '-hide_banner', '-y']));
  });
  it('pins the format and whitelist before -i, and prefixes file:', () => {
    expect(inputArgs({ file: '/s/a:b.mp4', format: 'mov', seekSeconds: 1.5 })).toEqual([
      '-protocol_whitelist',
      'file',
      '-f',
      'mov',
      '-ss',
      '1.5',
      '-i',
      'file:/s/a:b.mp4',
    ]);
    expect(fileUrl('file:/x')).toBe('file:/x');
  });
  it('formats seconds without exponents and bitrates in k', () => {
    expect(seconds(0)).toBe('0');
    expect(seconds(12.5)).toBe('12.5');
    expect(seconds(10)).toBe('10');
    expect(seconds(1e-7)).toBe('0');
    expect(seconds(3.9999999)).toBe('4');
    expect(kbps(800_000)).toBe('800k');
  });
});

describe('probe args', () => {
  it('restricts ffprobe to the allowed demuxers and local files', () => {
    const args = probeFormatArgs('/s/in', ['mov', 'matroska']);
    expect(after(args, '-format_whitelist')).toBe('mov,matroska');
    expect(after(args, '-protocol_whitelist')).toBe('file');
    expect(args.at(-1)).toBe('file:/s/in');
  });
  it('lists video packets with a pinned demuxer', () => {
    const args = probePacketsArgs('/s/in', 'mpegts');
    expect(after(args, '-f')).toBe('mpegts');
    expect(after(args, '-select_streams')).toBe('v:0');
  });
  it('decode check limits the head by time, seeks for the tail', () => {
    const head = decodeCheckArgs('/s/in', 'mov', { video: true, audio: true, from: 'head' });
    expectHardenedInputs(head);
    expect(after(head, '-t')).toBe('1');
    expect(head.filter((a) => a === '-map')).toHaveLength(2);
    expect(head.some((a) => a.startsWith('-frames'))).toBe(false);
    const tail = decodeCheckArgs('/s/in', 'mov', {
      video: false,
      audio: true,
      from: 'tail',
      tailSeekSeconds: 9,
    });
    expect(after(tail, '-ss')).toBe('9');
    expect(after(tail, '-map')).toBe('0:a:0');
    expect(tail).not.toContain('-t');
  });
});

describe('split args', () => {
  it('stream-copies the first video stream into NUT segments at the given times', () => {
    const args = splitArgs({
      input: { file: '/s/in', format: 'mov' },
      cutTimes: [3.9, 7.95],
      pattern: '/s/seg/seg-%05d.nut',
      segmentFormat: 'nut',
    });
    expectHardenedInputs(args);
    expect(after(args, '-map')).toBe('0:v:0');
    expect(after(args, '-c')).toBe('copy');
    expect(after(args, '-f')).toBe('mov');
    expect(after(args, '-segment_times')).toBe('3.9,7.95');
    expect(after(args, '-segment_format')).toBe('nut');
    expect(after(args, '-reset_timestamps')).toBe('0');
    expect(args).toContain('-an');
    expect(args.at(-1)).toBe('/s/seg/seg-%05d.nut');
  });
});

describe('encode-audio args', () => {
  it('aligns audio to the first video frame, pads to the video length, AAC-LC stereo 48k', () => {
    const args = encodeAudioArgs({
      input: { file: '/s/in', format: 'mpegts' },
      alignToSeconds: 1.48,
      sampleRate: 48000,
      durationSeconds: 10,
      bitrate: 128000,
      output: '/s/a.m4a',
    });
    expectHardenedInputs(args);
    expect(args).toContain('-copyts');
    expect(after(args, '-af')).toBe(
      'aresample=48000:async=1:first_pts=71040,asetpts=PTS-STARTPTS,apad',
    );
    expect(after(args, '-t')).toBe('10');
    expect(after(args, '-ac')).toBe('2');
    expect(after(args, '-c:a')).toBe('aac');
    expect(after(args, '-profile:a')).toBe('aac_low');
    expect(after(args, '-b:a')).toBe('128k');
    expect(args.at(-1)).toBe('file:/s/a.m4a');
  });
});

describe('transcode-ladder args', () => {
  const outputs = [
    { width: 1280, height: 720, maxBitrate: 3_000_000, bufferBits: 6_000_000, file: '/s/720p.mp4' },
    { width: 640, height: 360, maxBitrate: 800_000, bufferBits: 1_600_000, file: '/s/360p.mp4' },
  ];
  const encoder = { preset: 'veryfast' as const, crf: 23, gopFrames: 60 };

  it('decodes once, splits, and scales each branch with an explicit kernel', () => {
    expect(ladderFilterGraph({ rotation: 0, outputs })).toBe(
      '[0:v:0]setpts=PTS-STARTPTS,split=2[b0][b1];' +
        '[b0]scale=1280:720:flags=bicubic,setsar=1,format=yuv420p[v0];' +
        '[b1]scale=640:360:flags=bicubic,setsar=1,format=yuv420p[v1]',
    );
  });
  it('turns rotated sources upright before splitting', () => {
    expect(ladderFilterGraph({ rotation: 90, outputs: outputs.slice(1) })).toBe(
      '[0:v:0]setpts=PTS-STARTPTS,transpose=clock[b0];' +
        '[b0]scale=640:360:flags=bicubic,setsar=1,format=yuv420p[v0]',
    );
    expect(rotationFilters(180)).toEqual(['hflip', 'vflip']);
    expect(rotationFilters(270)).toEqual(['transpose=cclock']);
    expect(rotationFilters(0)).toEqual([]);
  });
  it('leaves rotation to ffmpeg when reading the source itself', () => {
    const args = transcodeLadderArgs(
      {
        input: { file: '/s/src.mp4', format: 'mov' },
        rotate: 'auto',
        rotation: 90,
        outputs,
        forceKeyframesAt: [],
        encoder,
      },
      30,
    );
    expect(args).not.toContain('-noautorotate');
    expect(after(args, '-filter_complex')).not.toContain('transpose');
  });
  it('nudges forced keyframes a quarter frame early', () => {
    expect(forceKeyframeList([2, 4], 30)).toBe('1.999,3.999');
    expect(forceKeyframeList([2], 1000)).toBe('1.99975');
  });
  it(
    'gives every rendition the same x264 settings, its ' + 'own caps, no audio, passthrough timing',
    () => {
      const args = transcodeLadderArgs(
        {
          input: { file: '/s/seg.nut', format: 'nut' },
          rotate: 'explicit',
          rotation: 0,
          outputs,
          forceKeyframesAt: [2],
          encoder,
          progress: true,
        },
        30,
      );
      expectHardenedInputs(args);
      expect(args.indexOf('-noautorotate')).toBeLessThan(args.indexOf('-i'));
      expect(args.indexOf('-progress')).toBeLessThan(args.indexOf('-map'));
      const perOutput = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
      expect(perOutput('-map')).toEqual(['[v0]', '[v1]']);
      expect(perOutput('-c:v')).toEqual(['libx264', 'libx264']);
      expect(perOutput('-profile:v')).toEqual(['high', 'high']);
      expect(perOutput('-crf')).toEqual(['23', '23']);
      expect(perOutput('-maxrate')).toEqual(['3000k', '800k']);
      expect(perOutput('-bufsize')).toEqual(['6000k', '1600k']);
      expect(perOutput('-g')).toEqual(['60', '60']);
      expect(perOutput('-sc_threshold')).toEqual(['0', '0']);
      expect(perOutput('-flags')).toEqual(['+cgop', '+cgop']);
      expect(perOutput('-vsync')).toEqual(['passthrough', 'passthrough']);
      expect(perOutput('-force_key_frames')).toEqual(['1.999', '1.999']);
      expect(perOutput('-an')).toHaveLength(2);
      expect(args.filter((a) => a.startsWith('file:/s/') && a.endsWith('p.mp4'))).toEqual([
        'file:/s/720p.mp4',
        'file:/s/360p.mp4',
      ]);
    },
  );
  it('adds the watermark as a second pinned input and overlays it per rendition', () => {
    const watermark: WatermarkSpec = {
      imageFile: '/s/logo.png',
      position: 'bottom-right',
      marginPx: 10,
      opacity: 0.5,
      scale: 0.1,
    };
    const args = transcodeLadderArgs(
      {
        input: { file: '/s/seg.nut', format: 'nut' },
        rotate: 'explicit',
        rotation: 0,
        outputs,
        forceKeyframesAt: [],
        encoder,
        watermark,
      },
      30,
    );
    expectHardenedInputs(args);
    expect(args.filter((a) => a === '-i')).toHaveLength(2);
    expect(args).toContain('png_pipe');
    const graph = after(args, '-filter_complex')!;
    expect(graph).toContain('[1:v:0]format=rgba,colorchannelmixer=aa=0.5,split=2[wmc0][wmc1]');
    expect(graph).toContain('[wmc0]scale=128:-1:flags=bicubic[wms0]');
    expect(graph).toContain(
      '[s0][wms0]overlay=x=main_w-overlay_w-10:y=main_h-overlay_h-10:format=yuv420[v0]',
    );
    expect(graph).toContain('[wmc1]scale=64:-1:flags=bicubic[wms1]');
    expect(args).not.toContain('-force_key_frames');
  });
});

describe('watermark', () => {
  const base: WatermarkSpec = {
    imageFile: '/s/logo.png',
    position: 'top-left',
    opacity: 1,
    scale: 0.2,
  };
  it('places all nine anchors', () => {
    expect(overlayPosition('top-left', 5)).toEqual({ x: '5', y: '5' });
    expect(overlayPosition('top', 5)).toEqual({ x: '(main_w-overlay_w)/2', y: '5' });
    expect(overlayPosition('top-right', 5)).toEqual({ x: 'main_w-overlay_w-5', y: '5' });
    expect(overlayPosition('left', 5)).toEqual({ x: '5', y: '(main_h-overlay_h)/2' });
    expect(overlayPosition('center', 5)).toEqual({
      x: '(main_w-overlay_w)/2',
      y: '(main_h-overlay_h)/2',
    });
    expect(overlayPosition('right', 5)).toEqual({
      x: 'main_w-overlay_w-5',
      y: '(main_h-overlay_h)/2',
    });
    expect(overlayPosition('bottom-left', 5)).toEqual({ x: '5', y: 'main_h-overlay_h-5' });
    expect(overlayPosition('bottom', 5)).toEqual({
      x: '(main_w-overlay_w)/2',
      y: 'main_h-overlay_h-5',
    });
    expect(overlayPosition('bottom-right', 5)).toEqual({
      x: 'main_w-overlay_w-5',
      y: 'main_h-overlay_h-5',
    });
  });
  it('uses a margin fraction of the output width by default', () => {
    const chains = watermarkGraph({ ...base, marginFraction: 0.05 }, 'wm', [
      { width: 1000, in: 'a', out: 'b' },
    ]);
    expect(chains).toEqual([
      '[wm]format=rgba,colorchannelmixer=aa=1[wmc0]',
      '[wmc0]scale=200:-1:flags=bicubic[wms0]',
      '[a][wms0]overlay=x=50:y=50:format=yuv420[b]',
    ]);
  });
  it('refuses values outside the typed ranges, with one wording', () => {
    expect(() => validateWatermark({ ...base, opacity: 2 })).toThrow(
      'Expected a number between 0 and 1 for opacity but received 2',
    );
    expect(() => validateWatermark({ ...base, position: 'middle' as never })).toThrow(
      /^Expected one of top-left, .* for position but received "middle"$/,
    );
    expect(() => validateWatermark({ ...base, scale: 0 })).toThrow('for scale');
    expect(() => validateWatermark({ ...base, marginPx: -1 })).toThrow('for marginPx');
    expect(() => validateWatermark({ ...base, marginFraction: Number.NaN })).toThrow(
      'for marginFraction',
    );
  });
  it('reads the image with a single-image demuxer', () => {
    expect(watermarkDemuxer('/s/a.JPG')).toBe('jpeg_pipe');
    expect(watermarkDemuxer('/s/a.png')).toBe('png_pipe');
  });
});

describe('concat-merge args', () => {
  it('writes an ffconcat list with exact durations and plain names only', () => {
    expect(
      concatListText([
        { name: 'part-00000.mp4', durationSeconds: 4 },
        { name: 'part-00001.mp4', durationSeconds: 4.033333 },
      ]),
    ).toBe(
      'ffconcat version 1.0\nfile part-00000.mp4\nduration 4\nfile part-00001.mp4\nduration ' +
        '4.033333\n',
    );
    expect(() => concatListText([{ name: '../etc/passwd', durationSeconds: 1 }])).toThrow(
      'Expected a plain file name',
    );
    expect(() => concatListText([{ name: 'a.mp4', durationSeconds: 0 }])).toThrow(
      'positive duration',
    );
    expect(() => concatListText([])).toThrow();
  });
  it('copies video and audio into a faststart MP4 and a TS HLS rendition', () => {
    const args = mergeArgs({
      listFile: '/s/list.ffconcat',
      audioFile: '/s/a.m4a',
      mp4: '/s/720p.mp4',
      hls: {
        playlist: '/s/hls/index.m3u8',
        segmentPattern: '/s/hls/seg-%05d.ts',
        segmentSeconds: 2,
      },
    });
    expectHardenedInputs(args);
    expect(args.slice(0, args.indexOf('-i'))).toEqual(
      expect.arrayContaining(['-f', 'concat', '-safe', '1']),
    );
    expect(args.filter((a) => a === '-c')).toHaveLength(2);
    expect(args.filter((a) => a === '1:a:0')).toHaveLength(2);
    expect(after(args, '-movflags')).toBe('+faststart');
    expect(after(args, '-hls_time')).toBe('2');
    expect(after(args, '-hls_playlist_type')).toBe('vod');
    expect(after(args, '-hls_segment_type')).toBe('mpegts');
    expect(after(args, '-hls_flags')).toBe('independent_segments');
    expect(after(args, '-hls_segment_filename')).toBe('/s/hls/seg-%05d.ts');
    expect(args).not.toContain('-master_pl_name');
  });
  it('maps no audio when there is none', () => {
    const args = mergeArgs({
      listFile: '/s/l',
      audioFile: null,
      mp4: '/s/o.mp4',
      hls: { playlist: '/s/i.m3u8', segmentPattern: '/s/s%d.ts', segmentSeconds: 6 },
    });
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args.some((a) => a.includes(':a:'))).toBe(false);
  });
});

describe('thumbnail args', () => {
  it('poster: seeks, rotates, picks a representative frame, one JPEG', () => {
    const args = posterArgs({
      input: { file: '/s/in', format: 'mov', seekSeconds: 3 },
      rotation: 90,
      width: 720,
      height: 1280,
      candidates: 50,
      output: '/s/p.jpg',
    });
    expectHardenedInputs(args);
    expect(args.indexOf('-ss')).toBeLessThan(args.indexOf('-i'));
    expect(after(args, '-vf')).toBe(
      'transpose=clock,thumbnail=50,scale=720:1280:flags=bicubic,setsar=1',
    );
    expect(after(args, '-frames:v')).toBe('1');
  });
  it('sprite: one frame per interval into a tile', () => {
    const args = spriteArgs({
      input: { file: '/s/in', format: 'mov' },
      rotation: 0,
      intervalSeconds: 2.5,
      thumbWidth: 160,
      thumbHeight: 90,
      columns: 5,
      rows: 2,
      output: '/s/s.jpg',
    });
    expect(after(args, '-vf')).toBe(
      "setpts=PTS-STARTPTS,select='gte(t,selected_n*2.5)'," +
        'scale=160:90:flags=bicubic,setsar=1,tile=5x2',
    );
  });
  it('HDR: the chosen frames go through the renditions` tone map, before scaling', () => {
    const color = { dynamicRange: 'PQ', matrix: 'bt2020nc', range: 'tv', peakNits: 1000 } as const;
    const chain = toneMapFilters(color).join(',');
    const common = { input: { file: '/s/in', format: 'mov' }, rotation: 0, color } as const;
    const poster = posterArgs({
      ...common,
      width: 320,
      height: 180,
      candidates: 25,
      output: '/s/p.jpg',
    });
    expect(after(poster, '-vf')).toBe(`thumbnail=25,${chain},scale=320:180:flags=bicubic,setsar=1`);
    const grid = { thumbWidth: 160, thumbHeight: 90, columns: 1, rows: 1, output: '/s/s.jpg' };
    const sprite = spriteArgs({ ...common, ...grid, intervalSeconds: 10 });
    expect(after(sprite, '-vf')).toContain(`selected_n*10)',${chain},scale=160:90`);
    const seeked = seekSpriteArgs({ ...common, ...grid, times: [0] });
    expect(after(seeked, '-filter_complex')).toContain(`setpts=PTS-STARTPTS,${chain},scale=160:90`);
  });
  it(
    'seeking sprite: one hardened, seeked input per thumbnail, one frame each, concatenated ' +
      'into the tile',
    () => {
      const args = seekSpriteArgs({
        input: { file: '/s/in', format: 'mov' },
        rotation: 270,
        times: [0, 2.5, 5],
        thumbWidth: 90,
        thumbHeight: 160,
        columns: 3,
        rows: 1,
        output: '/s/s.jpg',
      });
      expectHardenedInputs(args);
      expect(args.filter((a) => a === '-i')).toHaveLength(3);
      expect(args.filter((_, i) => args[i - 1] === '-ss')).toEqual(['2.5', '5']);
      expect(after(args, '-filter_complex')).toBe(
        [0, 1, 2]
          .map(
            (i) =>
              `[${i}:v:0]transpose=cclock,trim=end_frame=1,setpts=PTS-STARTPTS,` +
              `scale=90:160:flags=bicubic,setsar=1[t${i}]`,
          )
          .join(';') + ';[t0][t1][t2]concat=n=3:v=1:a=0,tile=3x1[sprite]',
      );
      expect(() =>
        seekSpriteArgs({
          input: { file: '/s/in' },
          rotation: 0,
          times: [],
          thumbWidth: 1,
          thumbHeight: 1,
          columns: 1,
          rows: 1,
          output: '/s/s.jpg',
        }),
      ).toThrow(/at least one thumbnail time/);
    },
  );
});

describe('loudnorm args', () => {
  const target = { integrated: -16, truePeak: -1.5, range: 11 };
  const measured = {
    input_i: '-27.61',
    input_tp: '-4.47',
    input_lra: '18.06',
    input_thresh: '-39.20',
    target_offset: '0.58',
  };
  it('pass 1 measures as JSON into the null muxer', () => {
    const args = loudnormMeasureArgs({ file: '/s/in', format: 'mp3' }, target);
    expectHardenedInputs(args);
    expect(after(args, '-af')).toBe('loudnorm=I=-16:TP=-1.5:LRA=11:print_format=json');
    expect(args.slice(-3)).toEqual(['-f', 'null', '-']);
    expect(after(args, '-loglevel')).toBe('info');
  });
  it('pass 2 applies the measurement linearly and encodes every format from one decode', () => {
    const args = loudnormApplyArgs({ file: '/s/in', format: 'mp3' }, target, measured, [
      { format: 'aac', bitrate: 128000, file: '/s/a.m4a' },
      { format: 'mp3', bitrate: 128000, file: '/s/a.mp3' },
      { format: 'opus', bitrate: 96000, file: '/s/a.opus' },
    ]);
    const graph = after(args, '-filter_complex')!;
    expect(graph).toContain(
      'measured_I=-27.61:measured_TP=-4.47:measured_LRA=18.06:measured_thresh=-39.20:' +
        'offset=0.58:linear=true',
    );
    expect(graph).toMatch(/asplit=3\[a0\]\[a1\]\[a2\]$/);
    expect(args.flatMap((a, i) => (a === '-c:a' ? [args[i + 1]] : []))).toEqual([
      'aac',
      'libmp3lame',
      'libopus',
    ]);
    expect(args.flatMap((a, i) => (a === '-f' ? [args[i + 1]] : []))).toEqual([
      'mp3',
      'mp4',
      'mp3',
      'ogg',
    ]);
  });
  it('parses the JSON loudnorm prints, and refuses -inf', () => {
    const stderr =
      `[Parsed_loudnorm_0 @ 0x1]\n{\n\t"input_i" : "-27.61",\n\t"input_tp" : ` +
      `"-4.47",\n\t"input_lra" : "18.06",\n\t"input_thresh" : "-39.20",\n\t"output_i" : ` +
      `"-16.58",\n\t"target_offset" : "0.58"\n}\n`;
    expect(parseLoudnormJson(stderr)).toEqual(measured);
    expect(() => parseLoudnormJson(stderr.replace('"-27.61"', '"-inf"'))).toThrow('input_i');
    expect(() => parseLoudnormJson('nothing')).toThrow();
  });
});
