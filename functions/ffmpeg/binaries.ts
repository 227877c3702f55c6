import { constants as fsConstants, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { MediaflowError } from '../errors.js';
import { runProcess } from './run-process.js';

/** The ffmpeg and ffprobe executables every media function runs, verified to start. */
export interface Binaries {
  ffmpeg: string;
  ffprobe: string;
  /** First line of `-version`, for logs and bug reports. */
  ffmpegVersion: string;
  ffprobeVersion: string;
  /**
   * Extra environment for both tools. The static builds load glibc's character-set modules at run
   * time: without GCONV_PATH the bundled ffprobe segfaults on every MPEG-TS file (in the SDT).
   */
  env: Readonly<Record<string, string>>;
}

/** Where Debian/Ubuntu/Fedora keep glibc's gconv modules. */
const GCONV_DIRS = [
  '/usr/lib/x86_64-linux-gnu/gconv',
  '/usr/lib/aarch64-linux-gnu/gconv',
  '/usr/lib64/gconv',
  '/usr/lib/gconv',
];

/**
 * Explicit paths (from FFMPEG_PATH / FFPROBE_PATH, read at the entry point) win over the bundled
 * builds.
 */
export interface BinaryOverrides {
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
}

const VERSION_TIMEOUT_MS = 15_000;
const cache = new Map<string, Promise<Binaries>>();

/**
 * Finds ffmpeg and ffprobe, makes sure they are executable and actually run, and caches the answer
 * per pair of paths. The bundled `@ffmpeg-installer` / `@ffprobe-installer` builds are the default;
 * npm 11 may skip their postinstall, which leaves the binary without its execute bit, so that bit
 * is restored here. Fails with BINARY_MISSING and a message that says what to do.
 */
export function resolveBinaries(overrides: BinaryOverrides = {}): Promise<Binaries> {
  const key = `${overrides.ffmpegPath ?? ''}\0${overrides.ffprobePath ?? ''}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = resolveUncached(overrides);
    // A failure is not cached: the operator may fix the install and retry without a restart.
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}

async function resolveUncached(overrides: BinaryOverrides): Promise<Binaries> {
  const ffmpeg =
    overrides.ffmpegPath ?? bundledPath('@ffmpeg-installer/ffmpeg', 'ffmpeg', 'FFMPEG_PATH');
  const ffprobe =
    overrides.ffprobePath ?? bundledPath('@ffprobe-installer/ffprobe', 'ffprobe', 'FFPROBE_PATH');
  const gconv = GCONV_DIRS.find((dir) => existsSync(dir));
  const env: Record<string, string> = gconv ? { GCONV_PATH: gconv } : {};
  const [ffmpegVersion, ffprobeVersion] = await Promise.all([
    verify(ffmpeg, 'ffmpeg', 'FFMPEG_PATH', env),
    verify(ffprobe, 'ffprobe', 'FFPROBE_PATH', env),
  ]);
  const binaries = { ffmpeg, ffprobe, ffmpegVersion, ffprobeVersion, env };
  await checkMpegTs(binaries);
  return binaries;
}

/**
 * MPEG-TS sources and our own HLS segments must be readable by ffprobe. A tiny TS (with the SDT
 * that triggers the crash) is written and probed once at start-up.
 */
async function checkMpegTs(binaries: Binaries): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mediaflow-selftest-'));
  const file = path.join(dir, 'selftest.ts');
  const options = { timeoutMs: VERSION_TIMEOUT_MS, env: binaries.env };
  try {
    await runProcess(
      binaries.ffmpeg,
      [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'anullsrc=r=48000:cl=mono',
        '-t',
        '0.1',
        '-c:a',
        'aac',
        '-f',
        'mpegts',
        `file:${file}`,
      ],
      { ...options, label: 'ffmpeg self-test' },
    );
    await runProcess(
      binaries.ffprobe,
      ['-hide_banner', '-loglevel', 'error', '-show_format', `file:${file}`],
      { ...options, label: 'ffprobe self-test' },
    );
  } catch (error) {
    const detail = error instanceof MediaflowError ? error.message : String(error);
    throw new MediaflowError(
      'BINARY_MISSING',
      `ffmpeg/ffprobe fail to write and read a small MPEG-TS file (${detail}). Static builds ` +
        `need glibc's gconv modules (package libc6 or glibc-gconv-extra; looked in ` +
        `${GCONV_DIRS.join(', ')}), or set FFMPEG_PATH/FFPROBE_PATH to system builds.`,
      { cause: error },
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function bundledPath(packageName: string, tool: string, envVar: string): string {
  try {
    const required = createRequire(import.meta.url)(packageName) as { path?: unknown };
    if (typeof required.path === 'string') return required.path;
    throw new Error(`${packageName} exported no path`);
  } catch (error) {
    // The installer packages throw plain strings, hence String(error).
    const reason = error instanceof Error ? error.message : String(error);
    throw new MediaflowError(
      'BINARY_MISSING',
      `The bundled ${tool} is not installed (${reason}). Run \`npm install\`, or set ${envVar} ` +
        `to a ${tool} executable.`,
      { cause: error },
    );
  }
}

async function verify(
  file: string,
  tool: string,
  envVar: string,
  env: Record<string, string>,
): Promise<string> {
  try {
    await fs.access(file, fsConstants.X_OK);
  } catch {
    try {
      const stat = await fs.stat(file);
      await fs.chmod(file, stat.mode | 0o100);
    } catch (error) {
      throw new MediaflowError(
        'BINARY_MISSING',
        `${tool} at ${file} is missing or not executable and could not be made executable. ` +
          `Reinstall it (npm rebuild ` +
          `${tool === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe'}), ` +
          `\`chmod u+x\` it, or set ${envVar}.`,
        { cause: error },
      );
    }
  }
  try {
    const { stdout } = await runProcess(file, ['-hide_banner', '-version'], {
      timeoutMs: VERSION_TIMEOUT_MS,
      env,
      label: `${tool} -version`,
    });
    const first = stdout.split('\n', 1)[0]?.trim() ?? '';
    if (!first.toLowerCase().startsWith(`${tool} version`)) {
      throw new MediaflowError(
        'BINARY_MISSING',
        `${file} does not look like ${tool} (its -version printed "${first.slice(0, 80)}"). ` +
          `Set ${envVar} to a real ${tool}.`,
      );
    }
    return first;
  } catch (error) {
    if (error instanceof MediaflowError && error.code === 'BINARY_MISSING') throw error;
    const detail =
      error instanceof MediaflowError && error.stderrTail ? `: ${error.stderrTail}` : '';
    throw new MediaflowError(
      'BINARY_MISSING',
      `${tool} at ${file} does not run${detail}. Check the file, or set ${envVar}.`,
      { cause: error },
    );
  }
}
