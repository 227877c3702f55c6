import { MediaflowError } from '../errors.js';
import type { MediaInfo } from './media-info.js';

/** Ceilings the probe enforces on a video or audio source (from MEDIAFLOW_MAX_*). */
export interface ProbeLimits {
  maxInputBytes: number;
  maxDurationSeconds: number;
  /** Width x height of the coded picture. */
  maxPixels: number;
  maxFps: number;
  maxStreams: number;
}

/**
 * Demuxers of raw video elementary streams (an MPEG-1/2 `.m2v` or `.mpg`, H.264 Annex B, HEVC,
 * MPEG-4 Part 2): no container, no usable timestamps, no audio. ffmpeg stamps their frames at the
 * stream's nominal rate; the probe counts the frames for a duration and the split never cuts them.
 */
export const RAW_VIDEO_DEMUXERS: readonly string[] = ['mpegvideo', 'h264', 'hevc', 'm4v'];

/** Whether a demuxer (the probe's `demuxer`) reads a raw video elementary stream. */
export function isRawVideoStream(demuxer: string): boolean {
  return RAW_VIDEO_DEMUXERS.includes(demuxer);
}

/**
 * Demuxers a source may use by default: real containers, raw video elementary streams and plain
 * audio files. Names match any entry of ffprobe's comma list (`mov` covers
 * `mov,mp4,m4a,3gp,3g2,mj2`).
 */
export const DEFAULT_ALLOWED_CONTAINERS: readonly string[] = [
  'mov',
  'mp4',
  'matroska',
  'webm',
  'avi',
  'mpegts',
  'mpeg',
  'flv',
  'ogg',
  'asf',
  'rm',
  'mxf',
  'dv',
  'ivf',
  ...RAW_VIDEO_DEMUXERS,
  'wav',
  'w64',
  'aiff',
  'mp3',
  'flac',
  'aac',
  'amr',
];

/**
 * Codecs (ffprobe's `codec_name`) a source's streams may use by default: what cameras, phones,
 * editors and the web produce, plus the legacy codecs of the allowed containers (RealVideo in
 * `rm`, WMV in `asf`, H.263 in 3GP). Everything else, such as MagicYUV or the dozens of game and
 * screen-capture codecs ffmpeg can decode, is refused before any decoder sees it. The same list
 * becomes ffmpeg's `-codec_whitelist` (see `decodersFor`), so nothing else is decoded even in a
 * stream the pipeline does not use.
 */
export const DEFAULT_ALLOWED_CODECS: readonly string[] = [
  // video
  'h264',
  'hevc',
  'av1',
  'vp8',
  'vp9',
  'mpeg4',
  'mpeg2video',
  'mpeg1video',
  'h263',
  'flv1',
  'mjpeg',
  'prores',
  'dnxhd',
  'dvvideo',
  'theora',
  'vc1',
  'wmv1',
  'wmv2',
  'wmv3',
  'msmpeg4v3',
  'rv10',
  'rv20',
  'rv30',
  'rv40',
  'rawvideo',
  // audio
  'aac',
  'mp3',
  'mp2',
  'opus',
  'vorbis',
  'flac',
  'alac',
  'ac3',
  'eac3',
  'wmav1',
  'wmav2',
  'amr_nb',
  'amr_wb',
  'cook',
  'pcm_s16le',
  'pcm_s16be',
  'pcm_s24le',
  'pcm_s24be',
  'pcm_s32le',
  'pcm_f32le',
  'pcm_u8',
  'pcm_alaw',
  'pcm_mulaw',
  // subtitles: not used, but ffprobe opens a decoder for every stream it reports
  'mov_text',
  'subrip',
  'webvtt',
  'ass',
  'dvd_subtitle',
  'dvb_subtitle',
  'hdmv_pgs_subtitle',
  'eia_608',
];

/** Decoders for inputs mediaflow supplies itself (watermark images), never for sources. */
export const INTERNAL_INPUT_CODECS: readonly string[] = ['png', 'mjpeg'];

/** MEDIA_UNSUPPORTED when the video or audio stream the pipeline would decode is not allowed. */
export function checkCodecs(info: MediaInfo, allowed: readonly string[]): void {
  const allow = new Set(allowed);
  for (const [kind, stream] of [
    ['video', info.video],
    ['audio', info.audio],
  ] as const) {
    if (stream && !allow.has(stream.codec))
      throw new MediaflowError(
        'MEDIA_UNSUPPORTED',
        `The source's ${kind} codec ${stream.codec} is not allowed.`,
      );
  }
}

/**
 * Demuxers refused even when an allow-list names them: they open other files or URLs (playlists,
 * concat lists, manifests, image sequences), read from devices or generate input (lavfi), or turn
 * arbitrary text into video (tty).
 */
export const REFUSED_DEMUXERS: readonly string[] = [
  'hls',
  'applehttp',
  'm3u8',
  'concat',
  'dash',
  'imf',
  'sdp',
  'rtp',
  'rtsp',
  'image2',
  'image2pipe',
  'lavfi',
  'tty',
  'ffmetadata',
  'webm_dash_manifest',
  'libmodplug',
  'avisynth',
  'vapoursynth',
  'data',
  'bin',
  'subviewer',
  'srt',
];

function names(formatName: string): string[] {
  return formatName
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

/** The demuxers ffprobe may pick at all: the allow-list minus anything refused. */
export function effectiveAllowList(allowed: readonly string[]): string[] {
  const refused = new Set(REFUSED_DEMUXERS);
  return allowed.map((s) => s.toLowerCase()).filter((s) => !refused.has(s));
}

/** MEDIA_REFUSED for reference-following demuxers, MEDIA_UNSUPPORTED for anything not allowed. */
export function checkContainer(formatName: string, allowed: readonly string[]): void {
  const found = names(formatName);
  const refused = found.find((n) => REFUSED_DEMUXERS.includes(n) || n.endsWith('_pipe'));
  if (refused) {
    throw new MediaflowError(
      'MEDIA_REFUSED',
      `Sources in the ${refused} format are refused: it can reference other files or is not a ` +
        `media container.`,
    );
  }
  const allow = new Set(effectiveAllowList(allowed));
  if (!found.some((n) => allow.has(n))) {
    throw new MediaflowError(
      'MEDIA_UNSUPPORTED',
      `The container ${formatName || '(unknown)'} is not allowed.`,
    );
  }
}

/** MEDIA_LIMIT_EXCEEDED when a probed value is past its limit. */
export function checkLimits(info: MediaInfo, limits: ProbeLimits): void {
  const over = (what: string, value: number, limit: number, unit = '') => {
    throw new MediaflowError(
      'MEDIA_LIMIT_EXCEEDED',
      `The source's ${what} (${round(value)}${unit}) exceeds the limit of ${limit}${unit}.`,
    );
  };
  if (info.sizeBytes > limits.maxInputBytes)
    over('size', info.sizeBytes, limits.maxInputBytes, ' bytes');
  if (info.duration > limits.maxDurationSeconds)
    over('duration', info.duration, limits.maxDurationSeconds, ' s');
  if (info.streamCount > limits.maxStreams)
    over('stream count', info.streamCount, limits.maxStreams);
  const video = info.video;
  if (video) {
    const pixels = video.width * video.height;
    if (pixels > limits.maxPixels)
      over(`picture size ${video.width}x${video.height}`, pixels, limits.maxPixels, ' pixels');
    if (video.fps > limits.maxFps) over('frame rate', video.fps, limits.maxFps, ' fps');
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
