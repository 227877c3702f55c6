import { ffmpegGlobalArgs, fileUrl, inputArgs, type InputSpec } from './common.js';

/**
 * One text subtitle stream of the source, converted to WebVTT. `-copyts` keeps the source's own
 * times and `-itsoffset` moves them so that `startSeconds` (the first video frame, time 0 of every
 * rendition) becomes 0. Pure.
 */
export function webVttArgs(
  input: InputSpec,
  streamIndex: number,
  startSeconds: number,
  output: string,
): string[] {
  return [
    ...ffmpegGlobalArgs(),
    '-copyts',
    ...inputArgs({
      ...input,
      options: [...(input.options ?? []), '-itsoffset', (-startSeconds).toFixed(6)],
    }),
    '-map',
    `0:${streamIndex}`,
    '-map_metadata',
    '-1',
    '-c:s',
    'webvtt',
    '-f',
    'webvtt',
    fileUrl(output),
  ];
}
