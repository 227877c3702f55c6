import { MediaflowError } from '../errors.js';
import { parseColor, type ColorInfo } from './color.js';
import { languageTag } from './language.js';

/**
 * The typed result of probing a source, and the pure parser from ffprobe's JSON.
 * Everything downstream (ladder, split, transcode, thumbnails) works from this, never from ffprobe
 * output directly, so odd values (N/A, 0/0 rates, rotation in two places) are handled once here.
 */
export interface Rational {
  num: number;
  den: number;
}

export type Rotation = 0 | 90 | 180 | 270;

export interface VideoStreamInfo {
  /** Index among all streams of the file. */
  index: number;
  codec: string;
  profile: string | null;
  /** Coded (stored) size. */
  width: number;
  height: number;
  /** Size as shown: sample aspect ratio applied, then width/height swapped for 90/270 rotation. */
  displayWidth: number;
  displayHeight: number;
  /** Clockwise degrees to turn the decoded picture for display (rotate tag or display matrix). */
  rotation: Rotation;
  sampleAspectRatio: Rational;
  /** Average frame rate (r_frame_rate when the average is unknown). */
  frameRate: Rational;
  fps: number;
  /**
   * Where `frameRate` comes from: ffprobe's average, its base rate (no average known), or the
   * probe's measure from packet times (see `packet-timing.ts`). Absent in results stored before.
   */
  frameRateFrom?: 'average' | 'base' | 'packets';
  /**
   * ffprobe's r_frame_rate: its guess of the base rate on whose grid every timestamp lies (null
   * when unknown). It differs from the average for sources with dropped or held frames; the split
   * uses it to pick the output frame grid (see `frameGrid`).
   */
  baseFrameRate: Rational | null;
  pixFmt: string | null;
  /** Colour tags and dynamic range (absent in results stored before it was probed). */
  color?: ColorInfo;
  /** Seconds; the stream's own start time. */
  startTime: number;
  duration: number | null;
  frameCount: number | null;
  bitRate: number | null;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  /** RFC 5646 tag from the stream's language tag (`eng` becomes `en`); null when unset. */
  language?: string | null;
  /** The stream's title tag, when it has one. */
  title?: string | null;
  channels: number;
  sampleRate: number;
  startTime: number;
  duration: number | null;
  bitRate: number | null;
}

/** Subtitle codecs that are text, which WebVTT can carry; any other is a bitmap (PGS, DVB). */
const TEXT_SUBTITLES = new Set(['subrip', 'srt', 'ass', 'ssa', 'mov_text', 'webvtt', 'text']);

export interface SubtitleStreamInfo {
  index: number;
  codec: string;
  language: string | null;
  title: string | null;
  /** Text (convertible to WebVTT) rather than pictures. */
  text: boolean;
}

export interface MediaInfo {
  /** ffprobe's format name list, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  formatName: string;
  /** The demuxer to pin with `-f` when decoding (the first name of the list). */
  demuxer: string;
  /** Seconds: the container's duration (the longest stream). */
  duration: number;
  /** Seconds: the container's start time, which ffmpeg subtracts from every timestamp. */
  startTime: number;
  sizeBytes: number;
  bitRate: number | null;
  streamCount: number;
  /** The first video stream that is not cover art; null for audio-only sources. */
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
  /** Every usable audio stream, the first being `audio` (absent in results stored before). */
  audioStreams?: AudioStreamInfo[];
  /** Every subtitle stream, text or bitmap (absent in results stored before). */
  subtitleStreams?: SubtitleStreamInfo[];
  /** Seconds (pts, as ffprobe reports them) of video keyframes; only when asked for. */
  keyframeTimes?: number[];
}

/** The subset of ffprobe's `-show_format -show_streams -of json` output that we read. */
interface FfprobeJson {
  format?: {
    format_name?: string;
    duration?: string;
    start_time?: string;
    size?: string;
    bit_rate?: string;
    nb_streams?: number;
  };
  streams?: FfprobeStream[];
}

interface FfprobeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  pix_fmt?: string;
  start_time?: string;
  duration?: string;
  nb_frames?: string;
  bit_rate?: string;
  channels?: number;
  sample_rate?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number | string }>;
  color_primaries?: string;
  color_transfer?: string;
  color_space?: string;
  color_range?: string;
}

/** Parses `a/b` or `a:b`; null for 0/0, N/A and non-positive values. */
export function parseRational(text: string | undefined): Rational | null {
  if (!text) return null;
  const match = /^(-?\d+)[/:](\d+)$/.exec(text.trim());
  if (!match) return null;
  const num = Number(match[1]);
  const den = Number(match[2]);
  if (!(num > 0) || !(den > 0)) return null;
  return { num, den };
}

function num(text: string | number | undefined): number | null {
  if (text === undefined || text === 'N/A' || text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/**
 * Clockwise display rotation. The old `rotate` tag is clockwise; the display matrix's `rotation`
 * (newer ffprobe) is counter-clockwise, so it is negated. Anything off the right angles is rounded.
 */
export function parseRotation(stream: Pick<FfprobeStream, 'tags' | 'side_data_list'>): Rotation {
  const matrix = stream.side_data_list?.find(
    (s) => s.side_data_type === 'Display Matrix' && s.rotation !== undefined,
  );
  let clockwise: number | null = null;
  if (matrix) clockwise = -(num(matrix.rotation) ?? 0);
  else if (stream.tags?.rotate !== undefined) clockwise = num(stream.tags.rotate);
  if (clockwise === null) return 0;
  const normalized = (((Math.round(clockwise / 90) * 90) % 360) + 360) % 360;
  return normalized as Rotation;
}

function parseVideo(stream: FfprobeStream): VideoStreamInfo {
  const width = stream.width ?? 0;
  const height = stream.height ?? 0;
  const sar = parseRational(stream.sample_aspect_ratio) ?? { num: 1, den: 1 };
  const rotation = parseRotation(stream);
  // Square the pixels along the width, as players do.
  const shownWidth = Math.max(1, Math.round((width * sar.num) / sar.den));
  const turned = rotation === 90 || rotation === 270;
  const average = parseRational(stream.avg_frame_rate);
  const frameRate = average ?? parseRational(stream.r_frame_rate) ?? { num: 0, den: 1 };
  return {
    index: stream.index ?? 0,
    codec: stream.codec_name ?? 'unknown',
    profile: stream.profile ?? null,
    width,
    height,
    displayWidth: turned ? height : shownWidth,
    displayHeight: turned ? shownWidth : height,
    rotation,
    sampleAspectRatio: sar,
    frameRate,
    fps: frameRate.num / frameRate.den,
    frameRateFrom: average ? 'average' : 'base',
    baseFrameRate: parseRational(stream.r_frame_rate),
    pixFmt: stream.pix_fmt ?? null,
    color: parseColor(stream),
    startTime: num(stream.start_time) ?? 0,
    duration: num(stream.duration),
    frameCount: num(stream.nb_frames),
    bitRate: num(stream.bit_rate),
  };
}

function parseAudio(stream: FfprobeStream): AudioStreamInfo {
  return {
    index: stream.index ?? 0,
    codec: stream.codec_name ?? 'unknown',
    language: languageTag(stream.tags?.language),
    title: stream.tags?.title?.trim() || null,
    channels: stream.channels ?? 0,
    sampleRate: num(stream.sample_rate) ?? 0,
    startTime: num(stream.start_time) ?? 0,
    duration: num(stream.duration),
    bitRate: num(stream.bit_rate),
  };
}

/** The demuxer ffprobe used (the first name of its format list); empty when none. */
export function demuxerOf(json: unknown): string {
  return ((json ?? {}) as FfprobeJson).format?.format_name?.split(',')[0] ?? '';
}

/**
 * Turns ffprobe JSON into MediaInfo. `countedFrames`, the video packets counted in a raw
 * elementary stream (which has no duration of its own), gives the video its frame count and
 * length at its nominal rate. Throws MEDIA_UNREADABLE when the file has neither a usable video
 * nor audio stream, or no duration can be found.
 */
export function parseFfprobeJson(
  json: unknown,
  sizeBytes: number,
  countedFrames?: number,
): MediaInfo {
  const data = (json ?? {}) as FfprobeJson;
  const format = data.format ?? {};
  const streams = data.streams ?? [];
  const formatName = format.format_name ?? '';
  const videoStream = streams.find(
    (s) =>
      s.codec_type === 'video' &&
      !s.disposition?.attached_pic &&
      (s.width ?? 0) > 0 &&
      (s.height ?? 0) > 0,
  );
  const audioStreams = streams
    .filter((s) => s.codec_type === 'audio' && (s.channels ?? 0) > 0)
    .map(parseAudio);
  const video = videoStream ? parseVideo(videoStream) : null;
  if (video && countedFrames !== undefined && countedFrames > 0) {
    video.frameCount = countedFrames;
    if (video.duration === null && video.fps > 0) video.duration = countedFrames / video.fps;
  }
  const audio = audioStreams[0] ?? null;
  if (!formatName)
    throw new MediaflowError('MEDIA_UNREADABLE', 'ffprobe did not recognise a container.');
  if (!video && !audio)
    throw new MediaflowError(
      'MEDIA_UNREADABLE',
      `The ${formatName} file has no decodable video or audio stream.`,
    );
  const streamDurations = [video?.duration, audio?.duration].filter(
    (d): d is number => d !== null && d !== undefined && d > 0,
  );
  const duration =
    num(format.duration) ?? (streamDurations.length ? Math.max(...streamDurations) : null);
  if (duration === null || !(duration > 0))
    throw new MediaflowError('MEDIA_UNREADABLE', `The ${formatName} file has no known duration.`);
  return {
    formatName,
    demuxer: demuxerOf(data),
    duration,
    startTime: num(format.start_time) ?? 0,
    sizeBytes,
    bitRate: num(format.bit_rate),
    streamCount: format.nb_streams ?? streams.length,
    video,
    audio,
    audioStreams,
    subtitleStreams: streams
      .filter((s) => s.codec_type === 'subtitle')
      .map((s) => ({
        index: s.index ?? 0,
        codec: s.codec_name ?? 'unknown',
        language: languageTag(s.tags?.language),
        title: s.tags?.title?.trim() || null,
        text: TEXT_SUBTITLES.has(s.codec_name ?? ''),
      })),
  };
}
