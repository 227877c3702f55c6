import fs from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { MediaflowError } from '../errors.js';
import {
  loudnormApplyArgs,
  loudnormMeasureArgs,
  parseLoudnormJson,
  type AudioOutputFormat,
  type LoudnessMeasurement,
  type LoudnessTarget,
} from '../ffmpeg/args/loudnorm.js';
import { progressArgs } from '../ffmpeg/args/common.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import type { MediaInfo } from '../video/media-info.js';

export type { AudioOutputFormat } from '../ffmpeg/args/loudnorm.js';

export interface LoudnormOptions {
  tools: MediaTools;
  /**
   * Integrated loudness target in LUFS (MEDIAFLOW_LOUDNESS_LUFS; e.g. -16 for streaming, -23 for
   * broadcast).
   */
  targetLufs: number;
  /** Default -1.5 dBTP. */
  truePeakDb?: number;
  /** Default 11 LU. */
  loudnessRange?: number;
  formats: readonly AudioOutputFormat[];
  /** Bits per second per format; defaults: AAC 128k, MP3 128k, Opus 96k. */
  bitrates?: Partial<Record<AudioOutputFormat, number>>;
}

export interface LoudnormOutput {
  format: AudioOutputFormat;
  file: string;
  bitrate: number;
  /** MIME type for storage. */
  contentType: string;
}

export interface LoudnormResult {
  /** Pass-1 measurement of the source (numbers as loudnorm printed them). */
  measured: LoudnessMeasurement;
  target: LoudnessTarget;
  outputs: LoudnormOutput[];
}

const DEFAULT_BITRATES: Record<AudioOutputFormat, number> = {
  aac: 128_000,
  mp3: 128_000,
  opus: 96_000,
};
const FILES: Record<AudioOutputFormat, { name: string; contentType: string }> = {
  aac: { name: 'audio.m4a', contentType: 'audio/mp4' },
  mp3: { name: 'audio.mp3', contentType: 'audio/mpeg' },
  opus: { name: 'audio.opus', contentType: 'audio/ogg; codecs=opus' },
};

/**
 * Loudness-normalises an audio source to an EBU R128 target with two-pass `loudnorm`: pass 1
 * measures the whole file, pass 2 applies those measurements in linear mode (a clean gain that
 * keeps the dynamics, where the true-peak limit allows) and encodes every requested format from one
 * decode.
 */
export async function normalizeLoudness(
  inputFile: string,
  info: MediaInfo,
  options: LoudnormOptions,
  ctx: FunctionContext,
): Promise<LoudnormResult> {
  if (!info.audio)
    throw new MediaflowError('MEDIA_UNSUPPORTED', 'The source has no audio to normalise.');
  if (options.formats.length === 0)
    throw new RangeError('Expected at least one audio format but received none');
  const target: LoudnessTarget = {
    integrated: options.targetLufs,
    truePeak: options.truePeakDb ?? -1.5,
    range: options.loudnessRange ?? 11,
  };
  const input = { file: inputFile, format: info.demuxer };
  const duration = info.audio.duration ?? info.duration;

  const pass1 = await runFfmpeg(
    options.tools,
    [...progressArgs(), ...loudnormMeasureArgs(input, target)],
    ctx,
    {
      label: 'loudnorm measure',
      progressSeconds: duration,
      progressScale: (f) => f * 0.4,
      keepStderrBytes: 64 * 1024,
    },
  );
  let measured: LoudnessMeasurement;
  try {
    measured = parseLoudnormJson(pass1.stderr);
  } catch (error) {
    // Silence measures as -inf: nothing to normalise, and pass 2 would reject the values.
    throw new MediaflowError(
      'MEDIA_UNREADABLE',
      `The audio could not be measured for loudness (${(error as Error).message}); it may be ` +
        `silent or too short.`,
      { cause: error },
    );
  }

  const dir = path.join(ctx.scratchDir, 'audio');
  await fs.mkdir(dir, { recursive: true });
  const outputs = [...new Set(options.formats)].map(
    (format): LoudnormOutput => ({
      format,
      file: path.join(dir, FILES[format].name),
      bitrate: options.bitrates?.[format] ?? DEFAULT_BITRATES[format],
      contentType: FILES[format].contentType,
    }),
  );
  await runFfmpeg(
    options.tools,
    [...progressArgs(), ...loudnormApplyArgs(input, target, measured, outputs)],
    ctx,
    {
      label: 'loudnorm apply',
      progressSeconds: duration,
      progressScale: (f) => 0.4 + f * 0.6,
    },
  );
  ctx.onProgress(1);
  return { measured, target, outputs };
}
