import { MediaflowError } from '../errors.js';
import type { MediaInfo } from './media-info.js';

/** Configured ceilings for a source (from MEDIAFLOW_MAX_* at the entry point). */
export interface MediaLimits {
  maxInputBytes: number;
  maxDurationSeconds: number;
  /** Width x height of the coded picture. */
  maxPixels: number;
  maxFps: number;
  maxStreams: number;
}

/**
 * Demuxers a source may use by default: real containers and plain audio files. Names match any
 * entry of ffprobe's comma list (`mov` covers `mov,mp4,m4a,3gp,3g2,mj2`).
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
  'wav',
  'w64',
  'aiff',
  'mp3',
  'flac',
  'aac',
  'amr',
];

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
export function checkLimits(info: MediaInfo, limits: MediaLimits): void {
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
