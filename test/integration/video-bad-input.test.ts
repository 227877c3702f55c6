import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietContext } from '../../functions/context.js';
import { MediaflowError, type ErrorCode } from '../../functions/errors.js';
import type { MediaTools } from '../../functions/ffmpeg/tools.js';
import { probe } from '../../functions/video/probe.js';
import { ffmpeg, makeSource, tempDir, TEST_LIMITS, testTools } from '../helpers/video-fixtures.js';

let dir: string;
let scratch: string;
let tools: MediaTools;
let good: string;

beforeAll(async () => {
  tools = await testTools();
  dir = await tempDir('bad-input');
  scratch = path.join(dir, 'scratch');
  await fs.mkdir(scratch);
  good = makeSource(tools.binaries, path.join(dir, 'good.mp4'), {
    width: 320,
    height: 180,
    fps: 25,
    seconds: 3,
    gop: 25,
    audio: true,
  });
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** Probes a file placed in scratch; returns the error code (or OK) and how long it took. */
async function outcome(
  name: string,
  content: Buffer | string,
  options: { limits?: typeof TEST_LIMITS; allowed?: string[] } = {},
): Promise<{ code: ErrorCode | 'OK'; ms: number; error?: MediaflowError }> {
  const file = path.join(scratch, name);
  await fs.writeFile(file, content);
  const started = Date.now();
  try {
    await probe(
      file,
      {
        tools,
        limits: options.limits ?? TEST_LIMITS,
        ...(options.allowed ? { allowedContainers: options.allowed } : {}),
      },
      quietContext(scratch),
    );
    return { code: 'OK', ms: Date.now() - started };
  } catch (error) {
    if (!(error instanceof MediaflowError)) throw error;
    return { code: error.code, ms: Date.now() - started, error };
  }
}

describe('bad input gets a typed error, quickly', () => {
  it('accepts the good source (control)', async () => {
    expect((await outcome('control.mp4', await fs.readFile(good))).code).toBe('OK');
  });

  it('zero bytes: MEDIA_EMPTY', async () => {
    const r = await outcome('zero.mp4', Buffer.alloc(0));
    expect(r.code).toBe('MEDIA_EMPTY');
    expect(r.error?.retryable).toBe(false);
  });

  it('truncated MP4 (index at the end, cut off): MEDIA_UNREADABLE', async () => {
    const bytes = await fs.readFile(good);
    const r = await outcome('truncated.mp4', bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(r.code).toBe('MEDIA_UNREADABLE');
    expect(r.ms).toBeLessThan(5000);
  });

  it('truncated MP4 (index first, data cut off): MEDIA_UNREADABLE', async () => {
    const fast = path.join(dir, 'fast.mp4');
    ffmpeg(tools.binaries, ['-i', good, '-c', 'copy', '-movflags', '+faststart', fast]);
    const bytes = await fs.readFile(fast);
    const r = await outcome(
      'truncated-fast.mp4',
      bytes.subarray(0, Math.floor(bytes.length * 0.6)),
    );
    expect(r.code).toBe('MEDIA_UNREADABLE');
    expect(r.error?.message).toMatch(/truncated/);
    expect(r.ms).toBeLessThan(5000);
  });

  it('random bytes named .mp4: MEDIA_UNREADABLE', async () => {
    let seed = 42;
    const random = Buffer.alloc(200_000);
    for (let i = 0; i < random.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      random[i] = seed >> 16;
    }
    const r = await outcome('random.mp4', random);
    expect(r.code).toBe('MEDIA_UNREADABLE');
    expect(r.ms).toBeLessThan(5000);
  });

  it('a text file: MEDIA_UNSUPPORTED', async () => {
    const r = await outcome('notes.mp4', 'These are meeting notes, not a video.\n'.repeat(40));
    expect(r.code).toBe('MEDIA_UNSUPPORTED');
  });

  it(
    'an HLS playlist disguised as .avi that points at local files: MEDIA_REFUSED, nothing ' +
      'outside scratch opened',
    async () => {
      // A FIFO outside scratch as the canary: opening it for writing completes only if someone
      // opens it for reading.
      const canary = path.join(dir, 'canary.fifo');
      execFileSync('mkfifo', [canary]);
      let opened = false;
      const writer = fs.open(canary, 'w').then((handle) => {
        opened = true;
        return handle.close();
      });
      const playlist =
        '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n' +
        `#EXTINF:10.0,\nfile://${canary}\n#EXTINF:10.0,\n/etc/passwd\n#EXT-X-ENDLIST\n`;
      const r = await outcome('holiday.avi', playlist);
      expect(r.code).toBe('MEDIA_REFUSED');
      expect(r.ms).toBeLessThan(2000);
      // Give any stray reader a moment, then unblock our own writer.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(opened).toBe(false);
      const reader = await fs.open(canary, 'r');
      await writer;
      await reader.close();
    },
  );

  it('a playlist behind junk bytes, and an ffconcat list: MEDIA_REFUSED', async () => {
    const junk = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]),
      Buffer.from('\n#EXTM3U\n#EXTINF:1,\n/etc/passwd\n'),
    ]);
    expect((await outcome('junk.mp4', junk)).code).toBe('MEDIA_REFUSED');
    expect((await outcome('list.mkv', 'ffconcat version 1.0\nfile /etc/passwd\n')).code).toBe(
      'MEDIA_REFUSED',
    );
  });

  it('a container not on the allow-list: MEDIA_UNSUPPORTED', async () => {
    const wav = path.join(dir, 'tone.wav');
    ffmpeg(tools.binaries, ['-f', 'lavfi', '-i', 'sine=d=1', wav]);
    const r = await outcome('tone.wav', await fs.readFile(wav), { allowed: ['mov', 'matroska'] });
    expect(r.code).toBe('MEDIA_UNSUPPORTED');
  });

  it('limits: size, duration, pixels, frame rate, streams: MEDIA_LIMIT_EXCEEDED', async () => {
    const bytes = await fs.readFile(good);
    const over = async (limits: Partial<typeof TEST_LIMITS>) =>
      (await outcome('limits.mp4', bytes, { limits: { ...TEST_LIMITS, ...limits } })).code;
    expect(await over({ maxInputBytes: 1000 })).toBe('MEDIA_LIMIT_EXCEEDED');
    expect(await over({ maxDurationSeconds: 2 })).toBe('MEDIA_LIMIT_EXCEEDED');
    expect(await over({ maxPixels: 320 * 180 - 1 })).toBe('MEDIA_LIMIT_EXCEEDED');
    expect(await over({ maxFps: 24 })).toBe('MEDIA_LIMIT_EXCEEDED');
    expect(await over({ maxStreams: 1 })).toBe('MEDIA_LIMIT_EXCEEDED');
  });

  it(
    'absurd declared dimensions in the header: ' + 'MEDIA_LIMIT_EXCEEDED before any decode',
    async () => {
      // Raw video in AVI: the header's dimensions are all there is (H.264 would take them from the
      // SPS).
      const avi = path.join(dir, 'raw.avi');
      ffmpeg(tools.binaries, [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=32x32:r=5:d=1',
        '-c:v',
        'rawvideo',
        '-pix_fmt',
        'yuv420p',
        avi,
      ]);
      const bytes = Buffer.from(await fs.readFile(avi));
      const strf = bytes.indexOf('strf', 0, 'latin1');
      expect(strf).toBeGreaterThan(0);
      // 'strf', chunk size, biSize, then biWidth and biHeight (little-endian). 10000x10000 is a
      // size ffmpeg accepts (30000x30000 it rejects itself) but past the 8192x8192 limit.
      bytes.writeInt32LE(10000, strf + 12);
      bytes.writeInt32LE(10000, strf + 16);
      const r = await outcome('huge.avi', bytes, {
        limits: { ...TEST_LIMITS, maxPixels: 8192 * 8192 },
      });
      expect(r.code).toBe('MEDIA_LIMIT_EXCEEDED');
      expect(r.error?.message).toMatch(/10000x10000/);
      expect(r.ms).toBeLessThan(5000);
    },
  );

  it('writes nothing outside scratch', async () => {
    const entries = await fs.readdir(dir);
    expect(entries.sort()).toEqual([
      'canary.fifo',
      'fast.mp4',
      'good.mp4',
      'raw.avi',
      'scratch',
      'tone.wav',
    ]);
  });
});
