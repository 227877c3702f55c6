import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Binaries } from '../../functions/ffmpeg/binaries.js';
import type { App } from '../../pipeline/app.js';
import type { JobRecord } from '../../pipeline/jobs/job.js';
import { downloadOutputs, startEmbeddedApp, submitAndWait } from '../helpers/embedded-app.js';
import { appleRuleViolations, readHlsTree } from '../helpers/hls-rules.js';
import { decodeErrors, ffprobeJson, makeSource, testTools } from '../helpers/video-fixtures.js';

/**
 * A preset with `codecs: [h264, hevc, av1]` end to end: a 640x360, 25 fps, 6 s source with
 * audio, split in 2 s pieces (so every piece after the first goes through the pre-roll), through
 * the real pipeline. Three rendition sets must come out on the same segment boundaries, each
 * segment starting on a keyframe, with codec strings read from the bitstream, and play: the master
 * and the MPD decode to the end in ffmpeg, every rendition.
 */
const FPS = 25;
const SECONDS = 6;
const PRESET = 'three-codecs';

let app: App & { dataDir: string };
let bin: Binaries;
let job: JobRecord;
let out: string;

beforeAll(async () => {
  bin = (await testTools()).binaries;
  const presets = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'codec-sets-')), 'presets.json');
  fs.writeFileSync(
    presets,
    JSON.stringify({
      presets: [
        {
          name: PRESET,
          kind: 'video',
          ladder: [360, 240],
          hlsSegmentSeconds: 2,
          codecs: ['h264', 'hevc', 'av1'],
        },
      ],
    }),
  );
  app = await startEmbeddedApp(
    {},
    { MEDIAFLOW_SEGMENT_SECONDS: '2', MEDIAFLOW_PRESETS_FILE: presets },
  );
  const source = makeSource(bin, path.join(app.dataDir, 'source.mp4'), {
    width: 640,
    height: 360,
    fps: FPS,
    seconds: SECONDS,
    gop: 2 * FPS,
    audio: true,
  });
  job = await submitAndWait(app, 'codecs/source.mp4', fs.readFileSync(source), PRESET);
  out = path.join(app.dataDir, 'out');
  await downloadOutputs(app, job, out);
  fs.rmSync(path.dirname(presets), { recursive: true, force: true });
}, 600_000);

afterAll(async () => {
  await app?.close();
});

/** Each segment's start on the rendition's timeline, and whether its first frame is a keyframe. */
function segmentStarts(playlist: string): Array<{ at: number; keyframe: boolean }> {
  const { packets } = ffprobeJson<{ packets: Array<{ pts_time: string; flags: string }> }>(bin, [
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time,flags',
    playlist,
  ]);
  const text = fs.readFileSync(playlist, 'utf8');
  const durations = [...text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
  let at = Number(packets[0]!.pts_time);
  return durations.map((d) => {
    const first = packets.find((p) => Math.abs(Number(p.pts_time) - at) < 0.5 / FPS);
    const start = { at: Number((at - Number(packets[0]!.pts_time)).toFixed(3)), keyframe: false };
    start.keyframe = first?.flags.startsWith('K') ?? false;
    at += d;
    return start;
  });
}

describe('a preset with three codec sets', () => {
  it('succeeds with an H.264, an HEVC and an AV1 set of the same sizes', () => {
    expect(job.state, `${job.error?.code} ${job.error?.message}`).toBe('succeeded');
    const { master } = readHlsTree(path.join(out, 'hls/master.m3u8'));
    const variants = master.variants.filter((v) => !v.isIFrameOnly);
    const sets = variants.map((v) => `${v.codecs?.split('.')[0]} ${v.resolution?.height}`);
    expect(sets).toEqual(['av01 240', 'av01 360', 'hvc1 240', 'hvc1 360', 'avc1 240', 'avc1 360']);
    for (const v of variants) {
      expect(v.codecs).toMatch(
        /^(avc1\.[0-9A-F]{6}|hvc1\.1\.6\.L\d+(\.[0-9A-F]+)*|av01\.0\.\d\dM\.08),mp4a\.40\.2$/,
      );
      // A bigger picture scores higher; at one size the more efficient codec does.
      expect(v.score).toBeGreaterThan(0);
    }
    const score = (codec: string, height: number) =>
      variants.find((v) => v.codecs?.startsWith(codec) && v.resolution?.height === height)!.score!;
    expect(score('av01', 240)).toBeGreaterThan(score('hvc1', 240));
    expect(score('hvc1', 240)).toBeGreaterThan(score('avc1', 240));
    expect(score('avc1', 360)).toBeGreaterThan(score('av01', 240));
    const mp4s = job.outputs.filter((o) => o.role === 'mp4').map((o) => path.basename(o.key));
    expect(mp4s.sort()).toEqual(
      ['240p', '240p-av1', '240p-hevc', '360p', '360p-av1', '360p-hevc']
        .map((n) => `${n}.mp4`)
        .sort(),
    );
  });

  it("passes the strict parser and Apple's rules", () => {
    expect(appleRuleViolations(bin, path.join(out, 'hls/master.m3u8'), { audio: true })).toEqual(
      [],
    );
  });

  it('puts every set on the same segment boundaries, each segment starting on a keyframe', () => {
    const { master } = readHlsTree(path.join(out, 'hls/master.m3u8'));
    const variants = master.variants.filter((v) => !v.isIFrameOnly);
    const starts = variants.map((v) => segmentStarts(path.join(out, 'hls', v.uri)));
    expect(starts[0]!.map((s) => s.at)).toEqual([0, 2, 4]);
    for (const [i, s] of starts.entries()) {
      expect(s, variants[i]!.uri).toEqual(starts[0]);
      expect(
        s.every((x) => x.keyframe),
        variants[i]!.uri,
      ).toBe(true);
    }
  });

  it('decodes the master and the MPD to the end in ffmpeg, every rendition of every set', () => {
    const mpd = fs.readFileSync(path.join(out, 'hls/manifest.mpd'), 'utf8');
    const videoSets = [...mpd.matchAll(/<AdaptationSet[^>]*contentType="video"[^>]*>/g)];
    expect(videoSets).toHaveLength(3);
    for (const manifest of ['hls/master.m3u8', 'hls/manifest.mpd']) {
      const file = path.join(out, manifest);
      const { streams } = ffprobeJson<{
        streams: Array<{ codec_type: string; codec_name: string }>;
      }>(bin, ['-show_streams', file]);
      const video = streams.flatMap((s, i) => (s.codec_type === 'video' ? [{ ...s, i }] : []));
      expect(video.map((s) => s.codec_name).sort(), manifest).toEqual([
        'av1',
        'av1',
        'h264',
        'h264',
        'hevc',
        'hevc',
      ]);
      for (const s of video) {
        const [decoded] = ffprobeJson<{ streams: Array<{ nb_read_frames: string }> }>(bin, [
          '-count_frames',
          '-show_streams',
          '-select_streams',
          String(s.i),
          file,
        ]).streams;
        expect(Number(decoded?.nb_read_frames), `${manifest} ${s.codec_name}`).toBe(FPS * SECONDS);
      }
      expect(decodeErrors(bin, file), manifest).toBe('');
    }
  });

  it('tags the HEVC MP4 hvc1 and every output BT.709', () => {
    const hevc = job.outputs.find((o) => o.key.endsWith('/360p-hevc.mp4'))!;
    const { streams } = ffprobeJson<{
      streams: Array<{
        codec_tag_string: string;
        color_primaries?: string;
        color_transfer?: string;
      }>;
    }>(bin, [
      '-select_streams',
      'v:0',
      '-show_streams',
      path.join(out, hevc.key.split('/').slice(-2).join('/')),
    ]);
    expect(streams[0]!.codec_tag_string).toBe('hvc1');
    expect(streams[0]!.color_primaries).toBe('bt709');
    expect(streams[0]!.color_transfer).toBe('bt709');
  });
});
