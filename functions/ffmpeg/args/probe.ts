import {
  ffmpegGlobalArgs,
  ffprobeGlobalArgs,
  fileUrl,
  inputArgs,
  PROTOCOL_WHITELIST,
  seconds,
} from './common.js';

/**
 * ffprobe of the container and streams. `-format_whitelist` makes libavformat refuse, after
 * probing, any demuxer not named (the hls demuxer would otherwise open the files a playlist lists
 * while ffprobe is still reading headers).
 */
export function probeFormatArgs(file: string, allowedDemuxers: readonly string[]): string[] {
  return [
    ...ffprobeGlobalArgs(),
    '-protocol_whitelist',
    PROTOCOL_WHITELIST,
    '-format_whitelist',
    allowedDemuxers.join(','),
    '-show_format',
    '-show_streams',
    '-print_format',
    'json',
    fileUrl(file),
  ];
}

/**
 * Every packet of the first video stream (no decoding), or its first `maxPackets`: pts, dts and
 * flags as CSV, in decode order. Split uses it to find keyframes that start closed GOPs.
 */
export function probePacketsArgs(file: string, demuxer: string, maxPackets?: number): string[] {
  return [
    ...ffprobeGlobalArgs(),
    '-protocol_whitelist',
    PROTOCOL_WHITELIST,
    '-f',
    demuxer,
    ...(maxPackets ? ['-read_intervals', `%+#${maxPackets}`] : []),
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time,dts_time,duration_time,flags',
    '-print_format',
    'csv=p=0',
    fileUrl(file),
  ];
}

/**
 * Decodes, with the ffmpeg that will do the real work (it may be older than ffprobe and lack a
 * decoder), either the first second of the source (`from: 'head'`) or everything from
 * `tailSeekSeconds` to the end, writing one checksum line per frame to stdout. Stream 0 is the
 * video (when there is video), then the audio. A file whose index promises more than it holds (a
 * truncated MP4 with its moov first) decodes nothing in its tail.
 *
 * Limits are by time, not `-frames`: in this ffmpeg, a stream reaching its frame limit closes every
 * stream of the output.
 */
export function decodeCheckArgs(
  file: string,
  demuxer: string,
  check: {
    video: boolean;
    audio: boolean;
    from: 'head' | 'tail';
    tailSeekSeconds?: number;
    seek?: 'input' | 'decode';
  },
): string[] {
  // `decode`: read from the start and drop frames before the tail (an output -ss), for files that
  // cannot be seeked, such as Matroska without a usable index, where an input seek decodes nothing.
  const decodeToTail = check.from === 'tail' && check.seek === 'decode';
  const seekSeconds = check.from === 'tail' && !decodeToTail ? check.tailSeekSeconds : undefined;
  const args = [
    ...ffmpegGlobalArgs('error'),
    ...inputArgs({ file, format: demuxer, seekSeconds, options: ['-noautorotate'] }),
  ];
  if (check.video) args.push('-map', '0:v:0');
  if (check.audio) args.push('-map', '0:a:0');
  if (decodeToTail && check.tailSeekSeconds) args.push('-ss', seconds(check.tailSeekSeconds));
  if (check.from === 'head') args.push('-t', '1');
  args.push('-f', 'framecrc', 'pipe:1');
  return args;
}

/** Stream durations of an output we wrote (for verification and bitrate), as JSON. */
export function probeOutputArgs(file: string): string[] {
  return [
    ...ffprobeGlobalArgs(),
    '-protocol_whitelist',
    PROTOCOL_WHITELIST,
    '-show_format',
    '-show_streams',
    '-print_format',
    'json',
    fileUrl(file),
  ];
}
