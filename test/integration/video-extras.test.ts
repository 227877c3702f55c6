import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeLoudness } from '../../functions/audio/loudnorm.js';
import { quietContext } from '../../functions/context.js';
import type { MediaTools } from '../../functions/ffmpeg/tools.js';
import { probe } from '../../functions/video/probe.js';
import { makeThumbnails } from '../../functions/video/thumbnails.js';
import { transcodeSegment } from '../../functions/video/transcode.js';
import {
  decodeErrors,
  ffmpeg,
  ffprobeJson,
  makeSource,
  tempDir,
  TEST_LIMITS,
  testTools,
} from '../helpers/video-fixtures.js';

let dir: string;
let tools: MediaTools;

beforeAll(async () => {
  tools = await testTools();
  dir = await tempDir('video-extras');
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

function imageSize(file: string): { width: number; height: number } {
  const { streams } = ffprobeJson<{
    streams: Array<{ width: number; height: number; codec_name: string }>;
  }>(tools.binaries, ['-show_streams', file]);
  expect(streams[0]!.codec_name).toBe('mjpeg');
  return { width: streams[0]!.width, height: streams[0]!.height };
}

/** Mean RGB of a rectangle of the frame at `seconds`. */
async function meanColor(
  file: string,
  seconds: number,
  crop: string,
): Promise<[number, number, number]> {
  const raw = path.join(dir, `pixel-${Math.random().toString(36).slice(2)}.rgb`);
  ffmpeg(tools.binaries, [
    '-ss',
    String(seconds),
    '-i',
    file,
    '-frames:v',
    '1',
    '-vf',
    `crop=${crop},scale=1:1:flags=area,format=rgb24`,
    '-f',
    'rawvideo',
    raw,
  ]);
  const bytes = await fs.readFile(raw);
  return [bytes[0]!, bytes[1]!, bytes[2]!];
}

describe('thumbnails', () => {
  it('writes a poster and a sprite whose WebVTT cues point inside it', async () => {
    const source = makeSource(tools.binaries, path.join(dir, 'thumbs.mp4'), {
      width: 640,
      height: 360,
      fps: 25,
      seconds: 7,
      gop: 25,
      audio: false,
    });
    const work = path.join(dir, 'thumbs');
    await fs.mkdir(work);
    const ctx = quietContext(work);
    const info = await probe(source, { tools, limits: TEST_LIMITS }, ctx);
    const r = await makeThumbnails(
      source,
      info,
      { tools, intervalSeconds: 2, thumbWidth: 160, columns: 3 },
      ctx,
    );
    expect(imageSize(r.posterFile)).toEqual({ width: 640, height: 360 });
    expect(r).toMatchObject({ count: 4, columns: 3, rows: 2, thumbWidth: 160, thumbHeight: 90 });
    expect(imageSize(r.spriteFile)).toEqual({ width: 480, height: 180 });
    const vtt = await fs.readFile(r.vttFile, 'utf8');
    expect(vtt.startsWith('WEBVTT\n')).toBe(true);
    const cues = [
      ...vtt.matchAll(
        new RegExp(
          String.raw`(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n` +
            String.raw`sprite\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)`,
          'g',
        ),
      ),
    ];
    expect(cues.map((c) => c[1])).toEqual([
      '00:00:00.000',
      '00:00:02.000',
      '00:00:04.000',
      '00:00:06.000',
    ]);
    expect(cues.at(-1)![2]).toBe('00:00:07.000');
    for (const c of cues) {
      const [x, y, w, h] = c.slice(3).map(Number) as [number, number, number, number];
      expect(x + w).toBeLessThanOrEqual(480);
      expect(y + h).toBeLessThanOrEqual(180);
    }
  });
});

describe('watermark', () => {
  it(
    'overlays the image at the chosen anchor, scaled to ' + 'the output, with the given opacity',
    async () => {
      // Black video, a white logo: the bottom-right corner turns grey-white, the top-left stays
      // black.
      const source = path.join(dir, 'black.mp4');
      ffmpeg(tools.binaries, [
        '-f',
        'lavfi',
        '-i',
        'color=c=black:s=320x180:r=25:d=2',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        source,
      ]);
      const logo = path.join(dir, 'logo.png');
      ffmpeg(tools.binaries, [
        '-f',
        'lavfi',
        '-i',
        'color=c=white:s=100x50',
        '-frames:v',
        '1',
        logo,
      ]);
      const work = path.join(dir, 'watermark');
      await fs.mkdir(work);
      const ctx = quietContext(work);
      const r = await transcodeSegment(
        { index: 0, file: source, format: 'mov', start: 0, duration: 2, frameCount: 50 },
        {
          tools,
          renditions: [
            { name: '180p', width: 320, height: 180, maxBitrate: 400_000, bufferBits: 800_000 },
          ],
          rotation: 0,
          fps: 25,
          hlsSegmentSeconds: 2,
          watermark: {
            imageFile: logo,
            position: 'bottom-right',
            marginPx: 10,
            opacity: 0.5,
            scale: 0.25,
          },
        },
        ctx,
      );
      const out = r.outputs[0]!.file;
      expect(decodeErrors(tools.binaries, out)).toBe('');
      // Logo: 80x40 at x=230..310, y=130..170. Sample its middle and the opposite corner.
      const inside = await meanColor(out, 1, '40:20:250:140');
      const outside = await meanColor(out, 1, '40:20:10:10');
      for (const v of inside) expect(v).toBeGreaterThan(100);
      for (const v of inside) expect(v).toBeLessThan(160);
      for (const v of outside) expect(v).toBeLessThan(20);
      // Just outside the margin stays black too.
      for (const v of await meanColor(out, 1, '8:8:312:172')) expect(v).toBeLessThan(20);
    },
  );
});

describe('loudnorm (audio-only sources)', () => {
  it('normalises to the target in two passes and writes AAC, MP3 and Opus', async () => {
    const source = path.join(dir, 'quiet.mp3');
    ffmpeg(tools.binaries, [
      '-f',
      'lavfi',
      '-i',
      'sine=f=440:d=5,volume=0.05',
      '-ac',
      '2',
      '-c:a',
      'libmp3lame',
      source,
    ]);
    const work = path.join(dir, 'loudnorm');
    await fs.mkdir(work);
    const ctx = quietContext(work);
    const info = await probe(source, { tools, limits: TEST_LIMITS }, ctx);
    expect(info.video).toBeNull();
    const r = await normalizeLoudness(
      source,
      info,
      { tools, targetLufs: -16, formats: ['aac', 'mp3', 'opus'] },
      ctx,
    );
    expect(Number(r.measured.input_i)).toBeLessThan(-30);
    expect(r.outputs.map((o) => o.format)).toEqual(['aac', 'mp3', 'opus']);
    const codecs = { aac: 'aac', mp3: 'mp3', opus: 'opus' };
    for (const o of r.outputs) {
      expect(decodeErrors(tools.binaries, o.file)).toBe('');
      const { streams } = ffprobeJson<{
        streams: Array<{ codec_name: string; channels: number; duration?: string }>;
      }>(tools.binaries, ['-show_streams', o.file]);
      expect(streams[0]).toMatchObject({ codec_name: codecs[o.format], channels: 2 });
      // Measure the result independently with ebur128.
      const out = await measureIntegrated(o.file);
      expect(Math.abs(out - -16)).toBeLessThan(1);
    }
  });
});

async function measureIntegrated(file: string): Promise<number> {
  const { spawnSync } = await import('node:child_process');
  const result = spawnSync(
    tools.binaries.ffmpeg,
    ['-hide_banner', '-nostdin', '-i', file, '-af', 'ebur128', '-f', 'null', '-'],
    { encoding: 'utf8', env: { ...process.env, ...tools.binaries.env } },
  );
  const match = /Integrated loudness:\s*\n\s*I:\s*(-?[0-9.]+) LUFS/.exec(result.stderr);
  if (!match) throw new Error(`no ebur128 summary: ${result.stderr.slice(-400)}`);
  return Number(match[1]);
}
