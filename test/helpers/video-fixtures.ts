import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveBinaries, type Binaries } from '../../functions/ffmpeg/binaries.js';
import { loadConfig } from '../../pipeline/config/load.js';
import { allowedDecoders, mediaConfinement } from '../../pipeline/tasks/media-tools.js';
import { DEFAULT_PROBE_TIMEOUT_MS, type MediaTools } from '../../functions/ffmpeg/tools.js';
import type { ProbeLimits } from '../../functions/video/limits.js';

/**
 * Tiny generated media and independent checks for the video tests. Checks run ffmpeg/ffprobe
 * directly (not through the code under test), so a bug there cannot hide itself.
 */

export const TEST_LIMITS: ProbeLimits = {
  maxInputBytes: 1024 ** 3,
  maxDurationSeconds: 3600,
  maxPixels: 4096 * 4096,
  maxFps: 120,
  maxStreams: 8,
};

export async function testTools(): Promise<MediaTools> {
  const binaries = await resolveBinaries();
  return {
    binaries,
    // As in production: only the allowed codecs' decoders.
    decoderWhitelist: await allowedDecoders(binaries),
    // As in production: limits, and the sandbox where this host allows it.
    confinement: (await mediaConfinement(loadConfig({}), binaries)).confinement,
    processTimeoutMs: 120_000,
    probeTimeoutMs: DEFAULT_PROBE_TIMEOUT_MS,
  };
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `mediaflow-${prefix}-`));
}

function run(
  binary: string,
  args: string[],
  env: Readonly<Record<string, string>>,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(binary, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function ffmpeg(bin: Binaries, args: string[]): string {
  const result = run(
    bin.ffmpeg,
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args],
    bin.env,
  );
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export function ffprobeJson<T = Record<string, unknown>>(bin: Binaries, args: string[]): T {
  const result = run(bin.ffprobe, ['-v', 'error', '-print_format', 'json', ...args], bin.env);
  if (result.status !== 0) throw new Error(`ffprobe ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

export interface SourceSpec {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  /** Keyframe interval in frames. */
  gop: number;
  audio: boolean;
  /** Output container as an ffmpeg muxer name. */
  muxer?: 'mp4' | 'matroska' | 'mpegts';
}

/** testsrc2 (+ a sine) encoded with x264 (closed GOPs every `gop` frames). */
export function makeSource(bin: Binaries, file: string, spec: SourceSpec): string {
  const inputs = [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=${spec.width}x${spec.height}:r=${spec.fps}:d=${spec.seconds}`,
  ];
  if (spec.audio)
    inputs.push('-f', 'lavfi', '-i', `sine=f=440:sample_rate=44100:d=${spec.seconds}`);
  ffmpeg(bin, [
    ...inputs,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(spec.gop),
    '-keyint_min',
    String(spec.gop),
    '-sc_threshold',
    '0',
    ...(spec.audio ? ['-c:a', 'aac', '-b:a', '96k'] : []),
    '-f',
    spec.muxer ?? 'mp4',
    file,
  ]);
  return file;
}

/** Stderr of a full decode at error level: empty means it decodes cleanly. */
export function decodeErrors(bin: Binaries, file: string): string {
  const result = run(
    bin.ffmpeg,
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'],
    bin.env,
  );
  return `${result.status === 0 ? '' : `exit ${result.status}\n`}${result.stderr}`.trim();
}

export interface StreamFacts {
  videoDuration: number | null;
  audioDuration: number | null;
  /** Frames actually decoded. */
  videoFrames: number | null;
  width: number | null;
  height: number | null;
  rotation: number;
  profile: string | null;
}

/** Durations from the container and frames counted by decoding. */
export function streamFacts(bin: Binaries, file: string): StreamFacts {
  type S = {
    codec_type: string;
    duration?: string;
    nb_read_frames?: string;
    width?: number;
    height?: number;
    profile?: string;
    side_data_list?: Array<{ rotation?: number }>;
  };
  const data = ffprobeJson<{ streams: S[] }>(bin, ['-count_frames', '-show_streams', file]);
  const video = data.streams.find((s) => s.codec_type === 'video');
  const audio = data.streams.find((s) => s.codec_type === 'audio');
  const num = (v: string | undefined) => (v === undefined || v === 'N/A' ? null : Number(v));
  return {
    videoDuration: num(video?.duration),
    audioDuration: num(audio?.duration),
    videoFrames: num(video?.nb_read_frames),
    width: video?.width ?? null,
    height: video?.height ?? null,
    rotation: video?.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0,
    profile: video?.profile ?? null,
  };
}

/** Video packet pts (seconds) in presentation order. */
export function videoPts(bin: Binaries, file: string): number[] {
  const data = ffprobeJson<{ packets: Array<{ pts_time?: string }> }>(bin, [
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time',
    file,
  ]);
  return data.packets.map((p) => Number(p.pts_time)).sort((a, b) => a - b);
}

/** Lowest per-frame PSNR (dB) of `file` against `reference` (same size and frame count). */
export function minPsnr(bin: Binaries, file: string, reference: string): number {
  const result = run(
    bin.ffmpeg,
    [
      '-hide_banner',
      '-nostdin',
      '-i',
      file,
      '-i',
      reference,
      '-lavfi',
      '[0:v][1:v]psnr',
      '-f',
      'null',
      '-',
    ],
    bin.env,
  );
  const match = /PSNR .*min:([0-9.]+|inf)/.exec(result.stderr);
  if (!match) throw new Error(`no PSNR in: ${result.stderr.slice(-500)}`);
  return match[1] === 'inf' ? Infinity : Number(match[1]);
}

/**
 * testsrc2 under temporal noise of strength `alls`, near-lossless H.264 with a closed GOP every
 * 2 s: real detail that moves (at 640x360, 4 sits under the 800k cap of the 360p rung and 14 is
 * held at it).
 */
export function noisyTestsrc(
  bin: Binaries,
  file: string,
  spec: { width: number; height: number; fps: number; seconds: number; alls: number },
): string {
  const { width, height, fps, seconds, alls } = spec;
  ffmpeg(bin, [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=${width}x${height}:r=${fps}:d=${seconds},noise=alls=${alls}:allf=t+u`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '8',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(2 * fps),
    '-keyint_min',
    String(2 * fps),
    '-sc_threshold',
    '0',
    '-an',
    '-f',
    'mp4',
    file,
  ]);
  return file;
}
