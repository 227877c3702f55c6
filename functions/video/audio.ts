import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { encodeAudioArgs } from '../ffmpeg/args/encode-audio.js';
import { progressArgs } from '../ffmpeg/args/common.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import type { AudioStreamInfo, MediaInfo } from './media-info.js';

export interface EncodeAudioOptions {
  tools: MediaTools;
  /** Length of the video output (the split's duration), so audio and video end together. */
  durationSeconds: number;
  /** Bits per second; default 128 kb/s. */
  bitrate?: number;
  /** Default 48 kHz. */
  sampleRate?: number;
  /** Which audio stream (one of `info.audioStreams`); the first when unset. */
  stream?: AudioStreamInfo;
}

export interface EncodedAudio {
  /** An .m4a under scratch: AAC-LC stereo. */
  file: string;
  durationSeconds: number;
  bitrate: number;
  sampleRate: number;
  /** RFC 6381 codec string for HLS CODECS. */
  codecs: 'mp4a.40.2';
}

/**
 * Encodes the source's audio once, for the whole file, to be muxed into every rendition at merge.
 * Time 0 of the result is the source's first video frame; the result is exactly as long as the
 * video. Returns null for a source without audio, whose outputs are then silent.
 */
export async function encodeAudio(
  inputFile: string,
  info: MediaInfo,
  options: EncodeAudioOptions,
  ctx: FunctionContext,
): Promise<EncodedAudio | null> {
  const stream = options.stream ?? info.audio;
  if (!stream) return null;
  const sampleRate = options.sampleRate ?? 48_000;
  const bitrate = options.bitrate ?? 128_000;
  const file = path.join(ctx.scratchDir, `audio-${stream.index}.m4a`);
  const args = encodeAudioArgs({
    input: { file: inputFile, format: info.demuxer },
    alignToSeconds: info.video?.startTime ?? stream.startTime,
    streamIndex: stream.index,
    sampleRate,
    durationSeconds: options.durationSeconds,
    bitrate,
    output: file,
  });
  await runFfmpeg(options.tools, [...progressArgs(), ...args], ctx, {
    label: 'audio',
    progressSeconds: options.durationSeconds,
  });
  ctx.onProgress(1);
  return {
    file,
    durationSeconds: options.durationSeconds,
    bitrate,
    sampleRate,
    codecs: 'mp4a.40.2',
  };
}
