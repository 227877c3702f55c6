import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { MediaflowError } from '../errors.js';
import { runProcess } from './run-process.js';
import { cachedFact, fileIdentity } from './tool-cache.js';
import {
  compareLibavcodec,
  describeVersion,
  isOutdated,
  MIN_LIBAVCODEC,
  MIN_RELEASE,
  parseVersion,
  type ToolVersion,
} from './version.js';

/** Where a binary came from: FFMPEG_PATH/FFPROBE_PATH, the host's PATH, or the npm bundle. */
export type BinarySource = 'configured' | 'system' | 'bundled';

/** The ffmpeg and ffprobe executables every media function runs, verified to start. */
export interface Binaries {
  ffmpeg: string;
  ffprobe: string;
  /** First line of `-version`, for logs and bug reports. */
  ffmpegVersion: string;
  ffprobeVersion: string;
  /** Parsed versions (release and libavcodec), for `--version`, `/readyz` and the start-up log. */
  versions: { ffmpeg: ToolVersion; ffprobe: ToolVersion };
  sources: { ffmpeg: BinarySource; ffprobe: BinarySource };
  /**
   * Said loudly at start by the entry point: an outdated build allowed by `allowOutdated`.
   * Empty when all is well.
   */
  warnings: readonly string[];
  /**
   * Extra environment for both tools. The static builds load glibc's character-set modules at run
   * time: without GCONV_PATH the bundled ffprobe segfaults on every MPEG-TS file (in the SDT).
   */
  env: Readonly<Record<string, string>>;
  /** Where facts about these binaries are kept between processes (tool-cache.ts). */
  cacheDir?: string;
}

/** Where Debian/Ubuntu/Fedora keep glibc's gconv modules. */
const GCONV_DIRS = [
  '/usr/lib/x86_64-linux-gnu/gconv',
  '/usr/lib/aarch64-linux-gnu/gconv',
  '/usr/lib64/gconv',
  '/usr/lib/gconv',
];

/**
 * How to pick the binaries, read at the entry point. Explicit paths (FFMPEG_PATH / FFPROBE_PATH)
 * win; otherwise a system build on `searchPath` is preferred over the bundled 2018 snapshot.
 */
export interface BinaryOverrides {
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
  /** Directories searched for a system build (PATH syntax). Default: this process's PATH. */
  searchPath?: string | undefined;
  /** Run a build below MIN_RELEASE with a warning instead of refusing to start. */
  allowOutdated?: boolean | undefined;
  /** Keep what was found out on disk for the next process (tool-cache.ts). Unset: do not. */
  cacheDir?: string | undefined;
}

const VERSION_TIMEOUT_MS = 15_000;
const cache = new Map<string, Promise<Binaries>>();

/**
 * Finds ffmpeg and ffprobe, makes sure they are executable, actually run and are not older than
 * MIN_RELEASE, and caches the answer per set of overrides. Order: an explicit path; a system
 * build on PATH (Debian's, Homebrew's) when it meets the minimum; else the newer of the system
 * build and the bundled `@ffmpeg-installer` / `@ffprobe-installer` one. The bundles are loaded
 * only when needed (the container image deletes them). npm 11 may skip their postinstall, which
 * leaves the binary without its execute bit, so that bit is restored here. Fails with
 * BINARY_MISSING or BINARY_OUTDATED and a message that says what to do.
 */
export function resolveBinaries(overrides: BinaryOverrides = {}): Promise<Binaries> {
  const key = JSON.stringify([
    overrides.ffmpegPath ?? '',
    overrides.ffprobePath ?? '',
    overrides.searchPath ?? process.env.PATH ?? '',
    overrides.allowOutdated === true,
    overrides.cacheDir ?? '',
  ]);
  let pending = cache.get(key);
  if (!pending) {
    pending = resolveUncached(overrides);
    // A failure is not cached: the operator may fix the install and retry without a restart.
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}

interface ToolSpec {
  tool: 'ffmpeg' | 'ffprobe';
  envVar: string;
  bundle: string;
  explicit: string | undefined;
}

interface Chosen {
  spec: ToolSpec;
  file: string;
  source: BinarySource;
  version: ToolVersion;
}

async function resolveUncached(overrides: BinaryOverrides): Promise<Binaries> {
  const gconv = GCONV_DIRS.find((dir) => existsSync(dir));
  const env: Record<string, string> = gconv ? { GCONV_PATH: gconv } : {};
  const searchPath = overrides.searchPath ?? process.env.PATH ?? '';
  const specs = toolSpecs(overrides);
  // Every file the choice could fall on: when none changed, neither did the choice.
  const candidates = await Promise.all(
    specs
      .flatMap((spec) => [
        spec.explicit,
        findOnPath(spec.tool, searchPath),
        optionalBundledPath(spec),
      ])
      .map((file) => (file ? fileIdentity(file) : null)),
  );
  const key = { v: 1, candidates, env, allowOutdated: overrides.allowOutdated === true };
  const binaries = await cachedFact(overrides.cacheDir, 'binaries', key, () =>
    chooseAndCheck(specs, searchPath, env, overrides),
  );
  return overrides.cacheDir ? { ...binaries, cacheDir: overrides.cacheDir } : binaries;
}

function toolSpecs(overrides: BinaryOverrides): ToolSpec[] {
  return [
    {
      tool: 'ffmpeg',
      envVar: 'FFMPEG_PATH',
      bundle: '@ffmpeg-installer/ffmpeg',
      explicit: overrides.ffmpegPath,
    },
    {
      tool: 'ffprobe',
      envVar: 'FFPROBE_PATH',
      bundle: '@ffprobe-installer/ffprobe',
      explicit: overrides.ffprobePath,
    },
  ];
}

function optionalBundledPath(spec: ToolSpec): string | undefined {
  if (spec.explicit) return undefined;
  try {
    return bundledPath(spec.bundle, spec.tool, spec.envVar);
  } catch {
    return undefined;
  }
}

async function chooseAndCheck(
  specs: ToolSpec[],
  searchPath: string,
  env: Record<string, string>,
  overrides: BinaryOverrides,
): Promise<Binaries> {
  const [ffmpeg, ffprobe] = await Promise.all(specs.map((spec) => choose(spec, searchPath, env)));
  if (!ffmpeg || !ffprobe)
    throw new MediaflowError('INTERNAL', 'unreachable: two specs, two answers');
  const warnings: string[] = [];
  for (const chosen of [ffmpeg, ffprobe]) {
    if (!isOutdated(chosen.version)) continue;
    const message = outdatedMessage(chosen);
    if (!overrides.allowOutdated) throw new MediaflowError('BINARY_OUTDATED', message);
    warnings.push(`${message} Running anyway because MEDIAFLOW_FFMPEG_ALLOW_OUTDATED is set.`);
  }
  const binaries: Binaries = {
    ffmpeg: ffmpeg.file,
    ffprobe: ffprobe.file,
    ffmpegVersion: ffmpeg.version.line,
    ffprobeVersion: ffprobe.version.line,
    versions: { ffmpeg: ffmpeg.version, ffprobe: ffprobe.version },
    sources: { ffmpeg: ffmpeg.source, ffprobe: ffprobe.source },
    warnings,
    env,
  };
  await checkMpegTs(binaries);
  return binaries;
}

/** An explicit path as given; else the system build if current; else the newer of the two. */
async function choose(
  spec: ToolSpec,
  searchPath: string,
  env: Record<string, string>,
): Promise<Chosen> {
  if (spec.explicit) {
    const version = await verify(spec.explicit, spec.tool, spec.envVar, env);
    return { spec, file: spec.explicit, source: 'configured', version };
  }
  const systemFile = findOnPath(spec.tool, searchPath);
  // A broken system build is passed over (the bundle may still work); an explicit one is not.
  const system = systemFile
    ? await verify(systemFile, spec.tool, spec.envVar, env).then(
        (version): Chosen => ({ spec, file: systemFile, source: 'system', version }),
        () => undefined,
      )
    : undefined;
  if (system && !isOutdated(system.version)) return system;
  let bundled: Chosen;
  try {
    const file = bundledPath(spec.bundle, spec.tool, spec.envVar);
    bundled = {
      spec,
      file,
      source: 'bundled',
      version: await verify(file, spec.tool, spec.envVar, env),
    };
  } catch (error) {
    if (system) return system;
    throw error;
  }
  if (!system) return bundled;
  return compareLibavcodec(system.version.libavcodec, bundled.version.libavcodec) >= 0
    ? system
    : bundled;
}

/** The first executable `tool` in the directories of `searchPath` (PATH syntax). */
export function findOnPath(tool: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const file = path.join(dir, tool);
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function outdatedMessage(chosen: Chosen): string {
  const { spec } = chosen;
  return (
    `${spec.tool} at ${chosen.file} (${chosen.source}) is ${describeVersion(chosen.version)}, ` +
    `older than ${MIN_RELEASE} (libavcodec ${MIN_LIBAVCODEC.join('.')}): it would decode ` +
    `untrusted uploads with years of known memory-safety bugs. Install a current ffmpeg ` +
    `(Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg); it is used ` +
    `automatically when on PATH, or set ${spec.envVar}. MEDIAFLOW_FFMPEG_ALLOW_OUTDATED=true ` +
    `runs it anyway, for trusted input only.`
  );
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
  let reason: string;
  let cause: unknown;
  try {
    const required = createRequire(import.meta.url)(packageName) as { path?: unknown };
    if (typeof required.path === 'string') return required.path;
    reason = `${packageName} exported no path`;
  } catch (error) {
    // The installer packages throw plain strings, hence String(error).
    reason = error instanceof Error ? error.message : String(error);
    cause = error;
  }
  throw new MediaflowError(
    'BINARY_MISSING',
    `The bundled ${tool} is not installed (${reason}). Run \`npm install\`, or set ${envVar} ` +
      `to a ${tool} executable.`,
    { cause },
  );
}

async function verify(
  file: string,
  tool: string,
  envVar: string,
  env: Record<string, string>,
): Promise<ToolVersion> {
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
    return parseVersion(stdout);
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
