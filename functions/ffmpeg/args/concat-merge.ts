import { ffmpegGlobalArgs, fileUrl, inputArgs, seconds } from './common.js';

export interface ConcatEntry {
  /** A bare file name next to the list (the concat demuxer's safe mode allows nothing else). */
  name: string;
  /** Exact duration of this piece on the output timeline; the next piece starts after it. */
  durationSeconds: number;
}

const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/**
 * The ffconcat list. Durations come from the split (source keyframe times), not from the encoded
 * files, so every piece starts exactly where it started in the source and no gap or overlap
 * builds up at the joins.
 */
export function concatListText(entries: readonly ConcatEntry[]): string {
  if (entries.length === 0)
    throw new RangeError('Expected at least one concat entry but received none');
  const lines = ['ffconcat version 1.0'];
  for (const entry of entries) {
    if (!SAFE_NAME.test(entry.name))
      throw new RangeError(
        `Expected a plain file name for concat entry but received ${JSON.stringify(entry.name)}`,
      );
    if (!(entry.durationSeconds > 0))
      throw new RangeError(
        `Expected a positive duration for ${entry.name} but received ${entry.durationSeconds}`,
      );
    lines.push(`file ${entry.name}`, `duration ${seconds(entry.durationSeconds)}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface HlsOutputSpec {
  /** Media playlist path, e.g. `/scratch/720p/index.m3u8`. */
  playlist: string;
  /** Segment path pattern, e.g. `/scratch/720p/seg-%05d.ts`. */
  segmentPattern: string;
  segmentSeconds: number;
}

export interface MergeArgsSpec {
  /** The ffconcat list (pieces next to it). */
  listFile: string;
  /** The source's audio, encoded once (.m4a), or null for a silent output. */
  audioFile: string | null;
  mp4: string;
  hls: HlsOutputSpec;
}

/**
 * Concatenates encoded pieces without re-encoding, muxes the audio, and writes both the MP4
 * (`+faststart`: playable before fully downloaded) and the HLS rendition in one pass over the
 * input. HLS segments are MPEG-TS: every HLS player supports them, and the bundled 2018 muxer's
 * fMP4 mode is the less proven one.
 */
export function mergeArgs(spec: MergeArgsSpec): string[] {
  const args = [
    ...ffmpegGlobalArgs(),
    // Pieces are our own MP4s; the nested opens inherit the protocol whitelist and this format
    // list.
    ...inputArgs({
      file: spec.listFile,
      format: 'concat',
      options: ['-safe', '1', '-format_whitelist', 'concat,mov'],
    }),
  ];
  if (spec.audioFile) args.push(...inputArgs({ file: spec.audioFile, format: 'mov' }));
  const maps = ['-map', '0:v:0', ...(spec.audioFile ? ['-map', '1:a:0'] : [])];
  args.push(
    ...maps,
    '-c',
    'copy',
    '-map_metadata',
    '-1',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    fileUrl(spec.mp4),
  );
  args.push(
    ...maps,
    '-c',
    'copy',
    '-map_metadata',
    '-1',
    '-f',
    'hls',
    '-hls_time',
    seconds(spec.hls.segmentSeconds),
    '-hls_playlist_type',
    'vod',
    '-hls_list_size',
    '0',
    '-hls_flags',
    'independent_segments',
    '-hls_segment_type',
    'mpegts',
    '-hls_segment_filename',
    spec.hls.segmentPattern,
    spec.hls.playlist,
  );
  return args;
}
