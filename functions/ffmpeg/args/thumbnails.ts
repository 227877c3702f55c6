import { ffmpegGlobalArgs, fileUrl, inputArgs, seconds, type InputSpec } from './common.js';
import { rotationFilters } from './rotation.js';

export interface PosterSpec {
  input: InputSpec;
  rotation: 0 | 90 | 180 | 270;
  width: number;
  height: number;
  /** Frames the `thumbnail` filter compares to pick a representative (non-black, in-focus) one. */
  candidates: number;
  output: string;
}

/** One JPEG: among `candidates` frames from the seek point, the most representative one. */
export function posterArgs(spec: PosterSpec): string[] {
  const filters = [...rotationFilters(spec.rotation), `thumbnail=${spec.candidates}`, `scale=${spec.width}:${spec.height}:flags=bicubic`, 'setsar=1'];
  return [
    ...ffmpegGlobalArgs(),
    ...inputArgs({ ...spec.input, options: ['-noautorotate', ...(spec.input.options ?? [])] }),
    '-map', '0:v:0',
    '-vf', filters.join(','),
    '-frames:v', '1',
    '-q:v', '3',
    '-an', '-sn', '-dn',
    '-map_metadata', '-1',
    '-f', 'image2',
    '-update', '1',
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
  output: string;
}

/** All thumbnails tiled into one JPEG: `select` picks one frame per interval, `tile` lays them out. */
export function spriteArgs(spec: SpriteSpec): string[] {
  const filters = [
    ...rotationFilters(spec.rotation),
    'setpts=PTS-STARTPTS',
    // The first frame at or after each multiple of the interval (fps= would pick frames near the
    // end of each interval instead, off from the VTT cue times).
    `select='gte(t,selected_n*${seconds(spec.intervalSeconds)})'`,
    `scale=${spec.thumbWidth}:${spec.thumbHeight}:flags=bicubic`,
    'setsar=1',
    `tile=${spec.columns}x${spec.rows}`,
  ];
  return [
    ...ffmpegGlobalArgs(),
    ...inputArgs({ ...spec.input, options: ['-noautorotate', ...(spec.input.options ?? [])] }),
    '-map', '0:v:0',
    '-vf', filters.join(','),
    '-vsync', 'passthrough',
    '-frames:v', '1',
    '-q:v', '4',
    '-an', '-sn', '-dn',
    '-map_metadata', '-1',
    '-f', 'image2',
    '-update', '1',
    fileUrl(spec.output),
  ];
}
