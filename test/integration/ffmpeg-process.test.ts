import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaflowError } from '../../functions/errors.js';
import { resolveBinaries, type Binaries } from '../../functions/ffmpeg/binaries.js';
import { killAllChildren, liveChildCount, runProcess } from '../../functions/ffmpeg/run-process.js';
import { isOutdated } from '../../functions/ffmpeg/version.js';
import { tempDir } from '../helpers/video-fixtures.js';

/** Debian's build, which CI installs (.ci/run). */
const SYSTEM_FFMPEG = '/usr/bin/ffmpeg';

let dir: string;
let bin: Binaries;

beforeAll(async () => {
  bin = await resolveBinaries();
  dir = await tempDir('ffmpeg-process');
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** A shell that starts a grandchild (sleep) and records its pid, then waits: tests group kills. */
function sleeperArgs(pidFile: string): string[] {
  return ['-c', `sleep 30 & echo $! > ${pidFile}; wait`];
}

async function waitForFile(file: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    if (text.trim()) return text.trim();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} never appeared`);
}

/**
 * Running (a killed process whose parent died may linger as a zombie until init reaps it: that is
 * dead).
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    return error instanceof MediaflowError ? error.code : String(error);
  }
}

describe('runProcess', () => {
  it('kills the whole process group on abort (CANCELLED)', async () => {
    const pidFile = path.join(dir, 'abort.pid');
    const controller = new AbortController();
    const running = runProcess('/bin/sh', sleeperArgs(pidFile), {
      timeoutMs: 60_000,
      signal: controller.signal,
      label: 'sleeper',
    });
    const grandchild = Number(await waitForFile(pidFile));
    expect(alive(grandchild)).toBe(true);
    const started = Date.now();
    controller.abort();
    expect(await codeOf(running)).toBe('CANCELLED');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await eventually(() => !alive(grandchild))).toBe(true);
    expect(liveChildCount()).toBe(0);
  });

  it('kills on the time limit (PROCESS_TIMEOUT)', async () => {
    const pidFile = path.join(dir, 'timeout.pid');
    const started = Date.now();
    const code = await codeOf(
      runProcess('/bin/sh', sleeperArgs(pidFile), { timeoutMs: 300, label: 'sleeper' }),
    );
    expect(code).toBe('PROCESS_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
    // The shell wrote the pid long before the 300 ms limit fired.
    expect(await eventually(() => !alive(Number(readFileSync(pidFile, 'utf8'))))).toBe(true);
  });

  it('killAllChildren ends every running group', async () => {
    const pidFile = path.join(dir, 'all.pid');
    const running = runProcess('/bin/sh', sleeperArgs(pidFile), {
      timeoutMs: 60_000,
      label: 'sleeper',
    });
    const grandchild = Number(await waitForFile(pidFile));
    expect(liveChildCount()).toBe(1);
    expect(killAllChildren()).toBe(1);
    expect(await codeOf(running)).toBe('FFMPEG_FAILED');
    expect(await eventually(() => !alive(grandchild))).toBe(true);
  });

  it('does not start when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(
      await codeOf(runProcess('/bin/true', [], { timeoutMs: 1000, signal: controller.signal })),
    ).toBe('CANCELLED');
  });

  it('reports ffmpeg failures with the stderr tail', async () => {
    try {
      await runProcess(
        bin.ffmpeg,
        [
          '-hide_banner',
          '-nostdin',
          '-protocol_whitelist',
          'file',
          '-i',
          `file:${path.join(dir, 'missing.mp4')}`,
          '-f',
          'null',
          '-',
        ],
        { timeoutMs: 10_000, label: 'ffmpeg missing' },
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MediaflowError);
      expect((error as MediaflowError).code).toBe('FFMPEG_FAILED');
      expect((error as MediaflowError).stderrTail).toMatch(/No such file or directory/);
    }
  });

  it('reports a missing executable as BINARY_MISSING', async () => {
    expect(
      await codeOf(runProcess(path.join(dir, 'no-such-ffmpeg'), ['-version'], { timeoutMs: 1000 })),
    ).toBe('BINARY_MISSING');
  });

  it('reports progress from -progress pipe:1 given the duration', async () => {
    const seen: number[] = [];
    await runProcess(
      bin.ffmpeg,
      [
        '-hide_banner',
        '-nostdin',
        '-progress',
        'pipe:1',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=160x90:r=25:d=2',
        '-f',
        'null',
        '-',
      ],
      {
        timeoutMs: 30_000,
        progress: { durationSeconds: 2, onProgress: (f) => seen.push(f) },
      },
    );
    expect(seen.at(-1)).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });
});

describe('resolveBinaries', () => {
  it('finds builds that run and are not older than the minimum', () => {
    expect(bin.ffmpegVersion).toMatch(/^ffmpeg version/);
    expect(bin.ffprobeVersion).toMatch(/^ffprobe version/);
    for (const tool of ['ffmpeg', 'ffprobe'] as const)
      expect(isOutdated(bin.versions[tool]), bin.versions[tool].line).toBe(false);
    expect(bin.warnings).toEqual([]);
  });

  it('prefers a current system build on PATH over the bundled 2018 one', async () => {
    const system = await resolveBinaries({ searchPath: path.dirname(SYSTEM_FFMPEG) });
    expect(system.sources).toEqual({ ffmpeg: 'system', ffprobe: 'system' });
    expect(system.ffmpeg).toBe(SYSTEM_FFMPEG);
  });

  it('refuses the outdated bundled ffmpeg with how to fix it, unless allowed', async () => {
    // No system build on the search path: only the bundle is left.
    await expect(resolveBinaries({ searchPath: '' })).rejects.toMatchObject({
      code: 'BINARY_OUTDATED',
      message: expect.stringMatching(/older than 4\.4 .*apt-get install ffmpeg.*FFMPEG_PATH/),
    });
    const allowed = await resolveBinaries({ searchPath: '', allowOutdated: true });
    expect(allowed.sources.ffmpeg).toBe('bundled');
    expect(allowed.versions.ffmpeg.libavcodec).toEqual([58, 42, 100]);
    expect(allowed.warnings).toEqual([
      expect.stringMatching(/^ffmpeg at .* is N-47683.*Running anyway/),
    ]);
  });

  it('passes over an outdated system build when the bundle is newer', async () => {
    // A fake "ffmpeg 4.0" on PATH: older than the bundle, so the bundle wins (and is refused).
    const fakeDir = path.join(dir, 'old-system');
    await fs.mkdir(fakeDir, { recursive: true });
    const script = (tool: string) =>
      `#!/bin/sh\necho "${tool} version 4.0.2"\necho "libavcodec     58. 18.100 / 58. 18.100"\n`;
    for (const tool of ['ffmpeg', 'ffprobe'])
      await fs.writeFile(path.join(fakeDir, tool), script(tool), { mode: 0o755 });
    const resolved = await resolveBinaries({ searchPath: fakeDir, allowOutdated: true });
    expect(resolved.sources).toEqual({ ffmpeg: 'bundled', ffprobe: 'bundled' });
  });

  it('lets explicit paths win, and restores a missing execute bit', async () => {
    const copy = path.join(dir, 'ffprobe-copy');
    await fs.copyFile(bin.ffprobe, copy);
    await fs.chmod(copy, 0o644);
    const resolved = await resolveBinaries({ ffprobePath: copy });
    expect(resolved.ffprobe).toBe(copy);
    expect(resolved.ffmpeg).toBe(bin.ffmpeg);
    expect((await fs.stat(copy)).mode & 0o100).toBe(0o100);
  });

  it('fails with BINARY_MISSING and a hint for a path that is not ffmpeg', async () => {
    const fake = path.join(dir, 'fake-ffmpeg');
    await fs.writeFile(fake, '#!/bin/sh\necho hello\n', { mode: 0o755 });
    await expect(resolveBinaries({ ffmpegPath: fake })).rejects.toMatchObject({
      code: 'BINARY_MISSING',
      message: expect.stringMatching(/FFMPEG_PATH/),
    });
    await expect(resolveBinaries({ ffmpegPath: path.join(dir, 'nothing') })).rejects.toMatchObject({
      code: 'BINARY_MISSING',
    });
  });
});
