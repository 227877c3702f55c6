import fs from 'node:fs/promises';
import type { FunctionContext } from '../context.js';
import { MediaflowError } from '../errors.js';
import { decodeCheckArgs, probeFormatArgs } from '../ffmpeg/args/probe.js';
import { runFfmpeg, runFfprobe } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import {
  checkCodecs,
  checkContainer,
  checkLimits,
  DEFAULT_ALLOWED_CODECS,
  DEFAULT_ALLOWED_CONTAINERS,
  effectiveAllowList,
  isRawVideoStream,
  type ProbeLimits,
} from './limits.js';
import { demuxerOf, parseFfprobeJson, type MediaInfo, type VideoStreamInfo } from './media-info.js';
import { measuredFrameRate, needsMeasuredRate, RATE_SAMPLE_PACKETS } from './packet-timing.js';
import { keyframeTimes, scanVideoPackets } from './packets.js';
import { sniffFile } from './sniff.js';

export interface ProbeOptions {
  tools: MediaTools;
  limits: ProbeLimits;
  /** Demuxer names a source may use; defaults to {@link DEFAULT_ALLOWED_CONTAINERS}. */
  allowedContainers?: readonly string[];
  /**
   * Codec names the video and audio streams may use; defaults to {@link DEFAULT_ALLOWED_CODECS}.
   * ffmpeg's `-codec_whitelist` (MediaTools.decoderWhitelist) should come from the same list.
   */
  allowedCodecs?: readonly string[];
  /** Also list video keyframe times (reads every packet: slower on long files). */
  keyframes?: boolean;
}

/**
 * Inspects a source and validates it before anything decodes it. In order, cheapest first:
 * size (MEDIA_EMPTY / MEDIA_LIMIT_EXCEEDED), the first bytes (MEDIA_REFUSED for playlists and
 * concat lists, MEDIA_UNSUPPORTED for plain text), ffprobe restricted to allowed demuxers under a
 * short time limit (MEDIA_UNREADABLE / MEDIA_UNSUPPORTED), the limits, and finally a one-frame
 * decode with the ffmpeg that will do the work, because the bundled ffprobe is newer than the
 * bundled ffmpeg and may know codecs that ffmpeg cannot decode.
 */
export async function probe(
  inputFile: string,
  options: ProbeOptions,
  ctx: FunctionContext,
): Promise<MediaInfo> {
  const stat = await fs.stat(inputFile);
  if (stat.size === 0) throw new MediaflowError('MEDIA_EMPTY', 'The source has zero bytes.');
  if (stat.size > options.limits.maxInputBytes) {
    throw new MediaflowError(
      'MEDIA_LIMIT_EXCEEDED',
      `The source's size (${stat.size} bytes) exceeds the limit of ` +
        `${options.limits.maxInputBytes} bytes.`,
    );
  }

  const verdict = await sniffFile(inputFile);
  if (verdict.kind === 'reference-list')
    throw new MediaflowError(
      'MEDIA_REFUSED',
      `The source is ${verdict.what}; playlists and file lists are refused.`,
    );
  if (verdict.kind === 'text')
    throw new MediaflowError('MEDIA_UNSUPPORTED', 'The source is a text file, not audio or video.');

  const allowed = options.allowedContainers ?? DEFAULT_ALLOWED_CONTAINERS;
  const json = await runProbe(inputFile, effectiveAllowList(allowed), options.tools, ctx);
  // A raw elementary stream has no duration: count its frames (only allowed demuxers get here).
  const demuxer = demuxerOf(json);
  const counted = isRawVideoStream(demuxer)
    ? (await scanVideoPackets(inputFile, demuxer, options.tools, ctx)).length
    : undefined;
  const info = parseFfprobeJson(json, stat.size, counted);
  checkContainer(info.formatName, allowed);
  checkCodecs(info, options.allowedCodecs ?? DEFAULT_ALLOWED_CODECS);
  if (
    info.video &&
    !isRawVideoStream(demuxer) &&
    needsMeasuredRate(info.video, options.limits.maxFps)
  )
    info.video = await withMeasuredRate(inputFile, info.demuxer, info.video, options.tools, ctx);
  checkLimits(info, options.limits);
  await checkDecodes(inputFile, info, options.tools, ctx);

  if (options.keyframes && info.video) {
    info.keyframeTimes = keyframeTimes(
      await scanVideoPackets(inputFile, info.demuxer, options.tools, ctx),
    );
  }
  ctx.log.debug(
    {
      formatName: info.formatName,
      duration: info.duration,
      video: info.video?.codec,
      audio: info.audio?.codec,
    },
    'probed',
  );
  return info;
}

/**
 * The video with its real frame rate, measured from the first packets' times, when they give one
 * (see `measuredFrameRate`); else as declared, for the limits to judge.
 */
async function withMeasuredRate(
  file: string,
  demuxer: string,
  video: VideoStreamInfo,
  tools: MediaTools,
  ctx: FunctionContext,
): Promise<VideoStreamInfo> {
  const packets = await scanVideoPackets(file, demuxer, tools, ctx, RATE_SAMPLE_PACKETS);
  const rate = measuredFrameRate(packets.flatMap((p) => (p.pts === null ? [] : [p.pts])));
  if (!rate) return video;
  ctx.log.info(
    { declared: video.frameRate, measured: rate },
    'frame rate measured from packet times',
  );
  return { ...video, frameRate: rate, fps: rate.num / rate.den, frameRateFrom: 'packets' };
}

async function runProbe(
  file: string,
  allowed: string[],
  tools: MediaTools,
  ctx: FunctionContext,
): Promise<unknown> {
  try {
    const { stdout } = await runFfprobe(tools, probeFormatArgs(file, allowed), ctx, {
      label: 'source',
      limit: 'probe',
      maxStdoutBytes: 4 * 1024 * 1024,
    });
    return JSON.parse(stdout);
  } catch (error) {
    throw classifyProbeError(error);
  }
}

/** Maps ffprobe failures on a source to the user-facing codes. Exported for tests. */
export function classifyProbeError(error: unknown): MediaflowError {
  if (!(error instanceof MediaflowError)) {
    return new MediaflowError('MEDIA_UNREADABLE', 'ffprobe printed output that is not JSON.', {
      cause: error,
    });
  }
  if (error.code !== 'FFMPEG_FAILED') return error;
  const tail = error.stderrTail ?? '';
  const codec = unlistedCodec(tail);
  if (codec) return codec;
  if (/not on whitelist/i.test(tail)) {
    return new MediaflowError(
      'MEDIA_UNSUPPORTED',
      'The source is not in an allowed container format.',
      { stderrTail: tail },
    );
  }
  return new MediaflowError(
    'MEDIA_UNREADABLE',
    `The source could not be read as media: ${firstLine(tail) || 'ffprobe failed'}.`,
    { stderrTail: tail },
  );
}

async function checkDecodes(
  file: string,
  info: MediaInfo,
  tools: MediaTools,
  ctx: FunctionContext,
): Promise<void> {
  const video = info.video !== null;
  const audio = info.audio !== null;
  // The tail starts a second before the end, on the file's own timeline (ffmpeg adds start_time).
  const tailSeekSeconds = Math.max(0, info.duration - 1);
  const [head, seeked] = await Promise.all([
    decodedStreams(decodeCheckArgs(file, info.demuxer, { video, audio, from: 'head' }), tools, ctx),
    decodedStreams(
      decodeCheckArgs(file, info.demuxer, { video, audio, from: 'tail', tailSeekSeconds }),
      tools,
      ctx,
    ),
  ]);
  if (video && !head.has(0))
    throw new MediaflowError(
      'MEDIA_UNREADABLE',
      'No video frame could be decoded from the source.',
    );
  if (audio && !head.has(video ? 1 : 0))
    throw new MediaflowError('MEDIA_UNREADABLE', 'No audio could be decoded from the source.');
  // A seek that finds nothing may be a file without a usable index (ffmpeg only warns that it
  // could not seek), not a truncated one: decode the whole file before calling it truncated.
  const tail =
    seeked.size === 0 && tailSeekSeconds > 0
      ? await decodedStreams(
          decodeCheckArgs(file, info.demuxer, {
            video,
            audio,
            from: 'tail',
            tailSeekSeconds,
            seek: 'decode',
          }),
          tools,
          ctx,
          'process',
        )
      : seeked;
  if (tail.size === 0) {
    throw new MediaflowError(
      'MEDIA_UNREADABLE',
      `The source is truncated: nothing decodes near its declared end ` +
        `(${info.duration.toFixed(3)} s).`,
    );
  }
}

/** Runs a decode check and returns the output stream indexes that produced at least one frame. */
async function decodedStreams(
  args: string[],
  tools: MediaTools,
  ctx: FunctionContext,
  limit: 'probe' | 'process' = 'probe',
): Promise<Set<number>> {
  try {
    const { stdout } = await runFfmpeg(tools, args, ctx, { label: 'decode check', limit });
    // framecrc lines are "stream_index, dts, pts, duration, size, crc"; comments start with '#'.
    return new Set(
      stdout
        .split('\n')
        .filter((l) => /^\d+,/.test(l))
        .map((l) => Number(l.split(',')[0])),
    );
  } catch (error) {
    if (!(error instanceof MediaflowError) || error.code !== 'FFMPEG_FAILED') throw error;
    const tail = error.stderrTail ?? '';
    const codec = unlistedCodec(tail);
    if (codec) throw codec;
    const code =
      /decoder .*not found|unsupported codec|unknown (?:decoder|format)|no decoder/i.test(tail)
        ? 'MEDIA_UNSUPPORTED'
        : 'MEDIA_UNREADABLE';
    throw new MediaflowError(
      code,
      `The source does not decode: ${firstLine(tail) || 'ffmpeg failed'}.`,
      { stderrTail: tail },
    );
  }
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((l) => l.trim())
      ?.trim()
      .slice(0, 200) ?? ''
  );
}

/** MEDIA_UNSUPPORTED when ffmpeg/ffprobe refused a decoder that `-codec_whitelist` leaves out. */
function unlistedCodec(stderrTail: string): MediaflowError | undefined {
  const match = /Codec \((\S+)\) not on whitelist/i.exec(stderrTail);
  if (!match) return undefined;
  return new MediaflowError('MEDIA_UNSUPPORTED', `The source's codec ${match[1]} is not allowed.`, {
    stderrTail,
  });
}
