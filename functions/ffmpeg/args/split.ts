import { ffmpegGlobalArgs, inputArgs, seconds, type InputSpec } from './common.js';

export interface SplitArgsSpec {
  input: InputSpec;
  /**
   * Cut times on ffmpeg's output timeline (seconds); each cut lands on the first keyframe at or
   * after it.
   */
  cutTimes: readonly number[];
  /** Segment file pattern, e.g. `/scratch/segments/seg-%05d.nut`. */
  pattern: string;
  /** Container of the segments. */
  segmentFormat: 'nut' | 'matroska';
}

/**
 * Stream-copies the first video stream into keyframe-aligned segments. Timestamps are kept (not
 * reset) so each segment's real start can be read back from the segment itself.
 */
export function splitArgs(spec: SplitArgsSpec): string[] {
  return [
    ...ffmpegGlobalArgs(),
    ...inputArgs(spec.input),
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-an',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-f',
    'segment',
    '-segment_format',
    spec.segmentFormat,
    '-segment_times',
    spec.cutTimes.map(seconds).join(','),
    '-reset_timestamps',
    '0',
    spec.pattern,
  ];
}
