import { toneMapFilters, type ColorSpec } from './color.js';
import { ffmpegGlobalArgs, fileUrl, inputArgs, seconds, type InputSpec } from './common.js';
import { rotationFilters } from './rotation.js';

export interface PosterSpec {
  input: InputSpec;
  rotation: 0 | 90 | 180 | 270;
  width: number;
  height: number;
  /** Frames the `thumbnail` filter compares to pick a representative (non-black, in-focus) one. */
  candidates: number;
  /** The source's colour, from the probe: HDR is tone-mapped as the renditions are. */
  color?: ColorSpec | undefined;
  output: string;
}

/** One JPEG: among `candidates` frames from the seek point, the most representative one. */
export function posterArgs(spec: PosterSpec): string[] {
  const filters = [
    ...rotationFilters(spec.rotation),
    `thumbnail=${spec.candidates}`,
    // After `thumbnail`: one frame to tone-map, not every candidate.
    ...toneMapFilters(spec.color),
    `scale=${spec.width}:${spec.height}:flags=bicubic`,
    'setsar=1',
  ];
  return [
    ...ffmpegGlobalArgs(),
    ...inputArgs({ ...spec.input, options: ['-noautorotate', ...(spec.input.options ?? [])] }),
    '-map',
    '0:v:0',
    '-vf',
    filters.join(','),
    '-frames:v',
    '1',
    '-q:v',
    '3',
    '-an',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-f',
    'image2',
    '-update',
    '1',
    fileUrl(spec.output),
  ];
}

export interface SpriteSpec {
  input: InputSpec;
  rotation: 0 | 90 | 180 | 270;
  /** A thumbnail every this many seconds, starting at 0. */
  intervalSeconds: number;
  thumbWidth: number;
  thumbHeight: number;
  columns: number;
  rows: number;
  /** The source's colour, from the probe: HDR is tone-mapped as the renditions are. */
  color?: ColorSpec | undefined;
  output: string;
}

/**
 * All thumbnails tiled into one JPEG: `select` picks one frame per interval, `tile` lays them out.
 */
export function spriteArgs(spec: SpriteSpec): string[] {
  const filters = [
    ...rotationFilters(spec.rotation),
    'setpts=PTS-STARTPTS',
    // The first frame at or after each multiple of the interval (fps= would pick frames near the
    // end of each interval instead, off from the VTT cue times).
    `select='gte(t,selected_n*${seconds(spec.intervalSeconds)})'`,
    ...toneMapFilters(spec.color),
    `scale=${spec.thumbWidth}:${spec.thumbHeight}:flags=bicubic`,
    'setsar=1',
    `tile=${spec.columns}x${spec.rows}`,
  ];
  return [
    ...ffmpegGlobalArgs(),
    ...inputArgs({ ...spec.input, options: ['-noautorotate', ...(spec.input.options ?? [])] }),
    '-map',
    '0:v:0',
    '-vf',
    filters.join(','),
    '-vsync',
    'passthrough',
    '-frames:v',
    '1',
    '-q:v',
    '4',
    '-an',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-f',
    'image2',
    '-update',
    '1',
    fileUrl(spec.output),
  ];
}

/**
 * The same sprite from one seek per thumbnail: each input is opened at its time (`-ss` before
 * `-i`: jump to the keyframe before it, decode up to it) and gives one frame, then `concat` and
 * `tile` lay them out. It decodes at most a GOP per thumbnail instead of the whole video, which on
 * a 40 s 1080p clip is the difference between 17 s and about one. `times` are on the file's own
 * timeline (container start included).
 */
export function seekSpriteArgs(
  spec: Omit<SpriteSpec, 'intervalSeconds'> & { times: readonly number[] },
): string[] {
  if (spec.times.length === 0)
    throw new RangeError('Expected at least one thumbnail time but received none');
  const args = [...ffmpegGlobalArgs()];
  for (const time of spec.times) {
    args.push(
      ...inputArgs({
        ...spec.input,
        seekSeconds: time,
        options: ['-noautorotate', ...(spec.input.options ?? [])],
      }),
    );
  }
  const frame = [
    ...rotationFilters(spec.rotation),
    'trim=end_frame=1',
    'setpts=PTS-STARTPTS',
    ...toneMapFilters(spec.color),
    `scale=${spec.thumbWidth}:${spec.thumbHeight}:flags=bicubic`,
    'setsar=1',
  ].join(',');
  const chains = spec.times.map((_, i) => `[${i}:v:0]${frame}[t${i}]`);
  const labels = spec.times.map((_, i) => `[t${i}]`).join('');
  chains.push(
    `${labels}concat=n=${spec.times.length}:v=1:a=0,tile=${spec.columns}x${spec.rows}[sprite]`,
  );
  return [
    ...args,
    '-filter_complex',
    chains.join(';'),
    '-map',
    '[sprite]',
    '-vsync',
    'passthrough',
    '-frames:v',
    '1',
    '-q:v',
    '4',
    '-map_metadata',
    '-1',
    '-f',
    'image2',
    '-update',
    '1',
    fileUrl(spec.output),
  ];
}
