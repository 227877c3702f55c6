import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaTools } from '../../functions/ffmpeg/tools.js';
import { runVideoChain } from '../helpers/video-chain.js';
import {
  decodeErrors,
  ffmpeg,
  makeSource,
  minPsnr,
  streamFacts,
  tempDir,
  testTools,
} from '../helpers/video-fixtures.js';

/**
 * Sources that take other paths: portrait, rotation metadata, no split (open GOPs, short), TS with
 * offsets, no audio.
 */
let dir: string;
let tools: MediaTools;

beforeAll(async () => {
  tools = await testTools();
  dir = await tempDir('video-variants');
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/**
 * Common output checks: clean decode, duration within a frame, A/V agreement, exact frame count,
 * upright.
 */
function expectCleanOutput(
  file: string,
  expected: {
    seconds: number;
    fps: number;
    frames: number;
    width: number;
    height: number;
    audio: boolean;
  },
) {
  expect(decodeErrors(tools.binaries, file)).toBe('');
  const facts = streamFacts(tools.binaries, file);
  expect([facts.width, facts.height]).toEqual([expected.width, expected.height]);
  expect(facts.rotation).toBe(0);
  expect(Math.abs(facts.videoDuration! - expected.seconds)).toBeLessThanOrEqual(
    Math.min(1 / expected.fps, 0.05),
  );
  expect(facts.videoFrames).toBe(expected.frames);
  if (expected.audio)
    expect(Math.abs(facts.audioDuration! - facts.videoDuration!)).toBeLessThanOrEqual(0.05);
  else expect(facts.audioDuration).toBeNull();
}

describe('video variants', () => {
  it('portrait source: portrait ladder, split, no audio', async () => {
    const source = makeSource(tools.binaries, path.join(dir, 'portrait.mp4'), {
      width: 360,
      height: 640,
      fps: 25,
      seconds: 8,
      gop: 25,
      audio: false,
    });
    const r = await runVideoChain(tools, source, path.join(dir, 'portrait'), {
      heights: [720, 360, 180],
      segmentSeconds: 3,
      hlsSeconds: 2,
    });
    expect(r.ladder.map((x) => `${x.width}x${x.height}`)).toEqual(['360x640', '180x320']);
    expect(r.split.mode).toBe('split');
    expect(r.split.segments.length).toBeGreaterThanOrEqual(2);
    expect(r.audio).toBeNull();
    for (const m of r.merged) {
      expectCleanOutput(m.mp4File, {
        seconds: 8,
        fps: 25,
        frames: 200,
        width: m.width,
        height: m.height,
        audio: false,
      });
      expect(m.codecs).toMatch(/^avc1\.64[0-9A-F]{4}$/);
    }
  });

  it(
    'rotation metadata (rotate=90 on a landscape stream): portrait ladder, upright output, ' +
      'split and whole paths agree',
    async () => {
      const landscape = makeSource(tools.binaries, path.join(dir, 'landscape.mp4'), {
        width: 640,
        height: 360,
        fps: 30,
        seconds: 6,
        gop: 30,
        audio: true,
      });
      const rotated = path.join(dir, 'rotated.mp4');
      ffmpeg(tools.binaries, [
        '-i',
        landscape,
        '-c',
        'copy',
        '-metadata:s:v',
        'rotate=90',
        rotated,
      ]);
      // What ffmpeg itself shows for this file (autorotate), as the orientation reference.
      const reference = path.join(dir, 'rotated-reference.mp4');
      ffmpeg(tools.binaries, [
        '-i',
        rotated,
        '-an',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-qp',
        '0',
        reference,
      ]);
      expect(streamFacts(tools.binaries, reference)).toMatchObject({ width: 360, height: 640 });

      const split = await runVideoChain(tools, rotated, path.join(dir, 'rotated-split'), {
        heights: [360],
        segmentSeconds: 2,
        hlsSeconds: 2,
      });
      expect(split.info.video).toMatchObject({
        width: 640,
        height: 360,
        displayWidth: 360,
        displayHeight: 640,
      });
      expect([90, 270]).toContain(split.info.video!.rotation);
      expect(split.split.mode).toBe('split');
      const whole = await runVideoChain(tools, rotated, path.join(dir, 'rotated-whole'), {
        heights: [360],
        segmentSeconds: 10,
        hlsSeconds: 2,
      });
      expect(whole.split.mode).toBe('whole');
      for (const r of [split, whole]) {
        expect(r.ladder.map((x) => `${x.width}x${x.height}`)).toEqual(['360x640']);
        const m = r.merged[0]!;
        expectCleanOutput(m.mp4File, {
          seconds: 6,
          fps: 30,
          frames: 180,
          width: 360,
          height: 640,
          audio: true,
        });
        // Turned the right way (a wrong turn or a mirror gives ~10 dB).
        expect(minPsnr(tools.binaries, m.mp4File, reference)).toBeGreaterThan(30);
      }
    },
  );

  it(
    'open-GOP source: not cut (leading pictures would be ' +
      'lost), whole-source output still exact',
    async () => {
      const source = path.join(dir, 'open-gop.mkv');
      ffmpeg(tools.binaries, [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=320x180:r=30:d=8',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-x264-params',
        'open-gop=1:keyint=30:min-keyint=30:scenecut=0:bframes=3:b-adapt=0',
        source,
      ]);
      // Fixed B-frames: every keyframe after the first has a leading B-frame that shows before it.
      const r = await runVideoChain(tools, source, path.join(dir, 'open-gop'), {
        heights: [180],
        segmentSeconds: 2,
        hlsSeconds: 2,
      });
      expect(r.split.mode).toBe('whole');
      expectCleanOutput(r.merged[0]!.mp4File, {
        seconds: 8,
        fps: 30,
        frames: 240,
        width: 320,
        height: 180,
        audio: false,
      });
    },
  );

  it('MPEG-TS source with a non-zero start and audio: split, A/V aligned, exact', async () => {
    const source = makeSource(tools.binaries, path.join(dir, 'broadcast.ts'), {
      width: 320,
      height: 180,
      fps: 25,
      seconds: 8,
      gop: 25,
      audio: true,
      muxer: 'mpegts',
    });
    const r = await runVideoChain(tools, source, path.join(dir, 'ts'), {
      heights: [180],
      segmentSeconds: 3,
      hlsSeconds: 2,
    });
    expect(r.info.startTime).toBeGreaterThan(1);
    expect(r.split.mode).toBe('split');
    const m = r.merged[0]!;
    expectCleanOutput(m.mp4File, {
      seconds: 8,
      fps: 25,
      frames: 200,
      width: 320,
      height: 180,
      audio: true,
    });
    expect(minPsnr(tools.binaries, m.mp4File, source)).toBeGreaterThan(30);
  });
});
