import { ffmpegGlobalArgs, fileUrl, inputArgs, kbps, seconds, type InputSpec } from './common.js';

export interface EncodeAudioSpec {
  input: InputSpec;
  /**
   * Source time (seconds, the file's own timeline) of the first video frame: audio time 0 is
   * aligned to it.
   */
  alignToSeconds: number;
  sampleRate: number;
  /** Output length; the audio is padded with silence or cut to exactly this. */
  durationSeconds: number;
  bitrate: number;
  output: string;
  /** The source stream's index (ffprobe's); the first audio stream when unset. */
  streamIndex?: number;
}

/**
 * The whole source's audio, once, as AAC-LC stereo in an .m4a (encoding per chunk leaves gaps at
 * the joins). `-copyts` keeps source timestamps so `aresample` can pad or trim the start to the
 * first video frame (first_pts) and fill gaps inside the stream; `apad` plus `-t` make the length
 * match the video exactly.
 */
export function encodeAudioArgs(spec: EncodeAudioSpec): string[] {
  const firstPts = Math.round(spec.alignToSeconds * spec.sampleRate);
  const filters = [
    `aresample=${spec.sampleRate}:async=1:first_pts=${firstPts}`,
    'asetpts=PTS-STARTPTS',
    'apad',
  ];
  return [
    ...ffmpegGlobalArgs(),
    '-copyts',
    ...inputArgs(spec.input),
    '-map',
    spec.streamIndex === undefined ? '0:a:0' : `0:${spec.streamIndex}`,
    '-vn',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-af',
    filters.join(','),
    '-ac',
    '2',
    '-ar',
    String(spec.sampleRate),
    '-c:a',
    'aac',
    '-profile:a',
    'aac_low',
    '-b:a',
    kbps(spec.bitrate),
    '-t',
    seconds(spec.durationSeconds),
    '-f',
    'mp4',
    fileUrl(spec.output),
  ];
}
