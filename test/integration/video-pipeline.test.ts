import fs from 'node:fs/promises';
import path from 'node:path';
import { Parser } from 'm3u8-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietContext, type FunctionContext } from '../../functions/context.js';
import { liveChildCount } from '../../functions/ffmpeg/run-process.js';
import type { MediaTools } from '../../functions/ffmpeg/tools.js';
import { encodeAudio, type EncodedAudio } from '../../functions/video/audio.js';
import { computeLadder, type Rendition } from '../../functions/video/ladder.js';
import { buildMasterPlaylist } from '../../functions/video/master-playlist.js';
import type { MediaInfo } from '../../functions/video/media-info.js';
import { mergeRendition, type MergedRendition } from '../../functions/video/merge.js';
import { probe } from '../../functions/video/probe.js';
import { splitVideo, type SplitResult } from '../../functions/video/split.js';
import { transcodeSegment, type TranscodedSegment } from '../../functions/video/transcode.js';
import {
  decodeErrors,
  ffprobeJson,
  makeSource,
  minPsnr,
  streamFacts,
  tempDir,
  TEST_LIMITS,
  testTools,
  videoPts,
} from '../helpers/video-fixtures.js';

/**
 * The whole video path on a 640x360, 30 fps, 12 s source with keyframes every 2 s: split into
 * 4 s pieces, two renditions (360p at source size, 180p), 2 s HLS segments.
 */
const FPS = 30;
const SECONDS = 12;
const FRAME = 1 / FPS;
const HLS_SECONDS = 2;

let dir: string;
let tools: MediaTools;
let source: string;
let info: MediaInfo;
let ladder: Rendition[];
let split: SplitResult;
let audio: EncodedAudio | null;
let encoded: TranscodedSegment[];
let merged: MergedRendition[];
let master: string;
const progress: number[] = [];

beforeAll(async () => {
  tools = await testTools();
  dir = await tempDir('video');
  source = makeSource(tools.binaries, path.join(dir, 'source.mp4'), {
    width: 640,
    height: 360,
    fps: FPS,
    seconds: SECONDS,
    gop: 60,
    audio: true,
  });
  const ctx = quietContext(path.join(dir, 'work'));
  await fs.mkdir(ctx.scratchDir);
  info = await probe(source, { tools, limits: TEST_LIMITS }, ctx);
  ladder = computeLadder(info.video!, { heights: [720, 360, 180] });
  [split, audio] = await Promise.all([
    splitVideo(source, info, { tools, segmentSeconds: 4, maxSegments: 50 }, ctx),
    encodeAudio(source, info, { tools, durationSeconds: info.video!.duration! }, ctx),
  ]);
  const tracking: FunctionContext = { ...ctx, onProgress: (f) => progress.push(f) };
  encoded = [];
  for (const segment of split.segments) {
    encoded.push(
      await transcodeSegment(
        segment,
        {
          tools,
          renditions: ladder,
          rotation: info.video!.rotation,
          fps: info.video!.fps,
          hlsSegmentSeconds: HLS_SECONDS,
        },
        tracking,
      ),
    );
  }
  merged = await Promise.all(
    ladder.map((r, i) =>
      mergeRendition(
        {
          rendition: r.name,
          width: r.width,
          height: r.height,
          pieces: encoded.map((e) => ({ file: e.outputs[i]!.file, duration: e.duration })),
          audioFile: audio?.file ?? null,
          hlsSegmentSeconds: HLS_SECONDS,
        },
        { tools },
        ctx,
      ),
    ),
  );
  master = buildMasterPlaylist(
    merged.map((m) => ({
      uri: `hls/${m.rendition}/index.m3u8`,
      bandwidth: m.peakBitrate,
      averageBandwidth: m.averageBitrate,
      width: m.width,
      height: m.height,
      codecs: m.codecs,
      frameRate: m.frameRate,
    })),
  );
  await fs.writeFile(path.join(ctx.scratchDir, 'master.m3u8'), master);
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('video pipeline (split, audio, transcode, merge, HLS)', () => {
  it('probes the source', () => {
    expect(info.video).toMatchObject({
      codec: 'h264',
      width: 640,
      height: 360,
      displayWidth: 640,
      displayHeight: 360,
      rotation: 0,
      fps: FPS,
    });
    expect(info.audio).toMatchObject({ codec: 'aac', channels: 1, sampleRate: 44100 });
  });

  it('builds a ladder that never upscales', () => {
    expect(ladder.map((r) => `${r.width}x${r.height}`)).toEqual(['640x360', '320x180']);
  });

  it('splits into at least three keyframe-aligned NUT pieces with exact starts', () => {
    expect(split.mode).toBe('split');
    expect(split.segments.map((s) => s.start)).toEqual([0, 4, 8]);
    expect(split.segments.map((s) => s.duration)).toEqual([4, 4, 4]);
    expect(split.segments.reduce((n, s) => n + s.frameCount, 0)).toBe(SECONDS * FPS);
    expect(split.duration).toBeCloseTo(SECONDS, 6);
  });

  it('encodes the audio once to AAC-LC stereo 48 kHz of the video length', () => {
    const facts = streamFacts(tools.binaries, audio!.file);
    expect(Math.abs(facts.audioDuration! - SECONDS)).toBeLessThan(0.05);
    const { streams } = ffprobeJson<{
      streams: Array<{
        codec_name: string;
        profile: string;
        channels: number;
        sample_rate: string;
      }>;
    }>(tools.binaries, ['-show_streams', audio!.file]);
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({
      codec_name: 'aac',
      profile: 'LC',
      channels: 2,
      sample_rate: '48000',
    });
  });

  it('reports transcode progress up to 1', () => {
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((f) => f >= 0 && f <= 1)).toBe(true);
  });

  it('writes MP4s that decode cleanly, with exact duration, frame count and A/V agreement', () => {
    for (const m of merged) {
      expect(decodeErrors(tools.binaries, m.mp4File)).toBe('');
      const facts = streamFacts(tools.binaries, m.mp4File);
      expect(facts.profile).toBe('High');
      expect([facts.width, facts.height]).toEqual([m.width, m.height]);
      expect(Math.abs(facts.videoDuration! - SECONDS)).toBeLessThanOrEqual(Math.min(FRAME, 0.05));
      expect(Math.abs(facts.audioDuration! - facts.videoDuration!)).toBeLessThanOrEqual(0.05);
      expect(facts.videoFrames).toBe(SECONDS * FPS);
    }
  });

  it('has one frame every 1/30 s with no duplicate or missing timestamps at the joins', () => {
    for (const m of merged) {
      const pts = videoPts(tools.binaries, m.mp4File);
      expect(pts).toHaveLength(SECONDS * FPS);
      for (const [i, t] of pts.entries()) expect(Math.abs(t - i * FRAME)).toBeLessThan(0.001);
    }
  });

  it(
    'keeps every frame in place: the source-size ' + 'rendition matches the source frame by frame',
    () => {
      // A dropped or repeated frame at a join would pair different testsrc2 frames (PSNR ~10 dB).
      expect(minPsnr(tools.binaries, merged[0]!.mp4File, source)).toBeGreaterThan(30);
    },
  );

  it('puts moov first (+faststart)', async () => {
    const head = Buffer.alloc(64);
    const handle = await fs.open(merged[0]!.mp4File, 'r');
    await handle.read(head, 0, 64, 0);
    await handle.close();
    const ftypSize = head.readUInt32BE(0);
    expect(head.toString('latin1', ftypSize + 4, ftypSize + 8)).toBe('moov');
  });

  it(
    'writes HLS renditions whose segments start at ' + 'the same times, decode, and add up',
    async () => {
      const starts: string[] = [];
      for (const m of merged) {
        const parser = new Parser();
        parser.push(await fs.readFile(m.playlistFile, 'utf8'));
        parser.end();
        const { segments, endList } = parser.manifest;
        expect(endList).toBe(true);
        expect(segments.length).toBe(SECONDS / HLS_SECONDS);
        let at = 0;
        const times = segments.map((s) => {
          const start = at;
          at += s.duration;
          return start.toFixed(3);
        });
        starts.push(times.join(' '));
        expect(Math.abs(at - SECONDS)).toBeLessThanOrEqual(0.05);
        for (const s of segments)
          await expect(fs.stat(path.join(m.hlsDir, s.uri))).resolves.toBeTruthy();
        expect(decodeErrors(tools.binaries, m.playlistFile)).toBe('');
        // Each TS segment begins with a keyframe at the boundary: the first video pts of segment
        // k is k*2 s (+ the TS offset).
        const firstPts = m.hlsSegments.map((s) => videoPts(tools.binaries, s.file)[0]!);
        for (const [k, t] of firstPts.entries())
          expect(Math.abs(t - firstPts[0]! - k * HLS_SECONDS)).toBeLessThan(0.001);
      }
      expect(new Set(starts).size).toBe(1);
      expect(starts[0]).toBe('0.000 2.000 4.000 6.000 8.000 10.000');
    },
  );

  it(
    'writes a master playlist a real parser reads, naming variants that exist, with measured ' +
      'attributes',
    async () => {
      const parser = new Parser();
      parser.push(master);
      parser.end();
      const playlists = parser.manifest.playlists!;
      expect(playlists).toHaveLength(2);
      expect(parser.manifest.independentSegments).toBe(true);
      for (const p of playlists) {
        await expect(fs.stat(path.join(dir, 'work', p.uri))).resolves.toBeTruthy();
        expect(p.attributes.CODECS).toMatch(/^avc1\.64[0-9A-F]{4},mp4a\.40\.2$/);
      }
      const bandwidths = playlists.map((p) => p.attributes.BANDWIDTH!);
      expect([...bandwidths].sort((a, b) => a - b)).toEqual(bandwidths);
      const big = merged[0]!;
      // Peak is at least the average, and the average is close to the MP4's measured bitrate.
      expect(big.peakBitrate).toBeGreaterThanOrEqual(big.averageBitrate);
      expect(big.averageBitrate / big.mp4.bitRate).toBeGreaterThan(0.9);
      expect(big.averageBitrate / big.mp4.bitRate).toBeLessThan(1.3);
      // The codec level is the one x264 chose for 640x360@30 (3.0) and 320x180 (1.3 or below).
      expect(big.codecs.startsWith('avc1.64001E')).toBe(true);
    },
  );

  it('leaves no ffmpeg process behind', () => {
    expect(liveChildCount()).toBe(0);
  });
});
