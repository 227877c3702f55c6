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
  /**
   * `mpegts`: segments carry the audio too. `fmp4`: CMAF, video only (audio is its own rendition),
   * with `init.mp4` next to the playlist.
   */
  segmentType?: 'mpegts' | 'fmp4';
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
 * input. HLS segments are MPEG-TS with the audio muxed in, or CMAF (fMP4, video only) for the
 * HLS master and the DASH MPD to share.
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
  const fmp4 = spec.hls.segmentType === 'fmp4';
  args.push(...(fmp4 ? ['-map', '0:v:0'] : maps), ...hlsOutputArgs(spec.hls));
  return args;
}

/** Stream-copies the mapped streams into an HLS rendition (VOD playlist, numbered segments). */
export function hlsOutputArgs(hls: HlsOutputSpec): string[] {
  const fmp4 = hls.segmentType === 'fmp4';
  return [
    '-c',
    'copy',
    '-map_metadata',
    '-1',
    '-f',
    'hls',
    '-hls_time',
    seconds(hls.segmentSeconds),
    '-hls_playlist_type',
    'vod',
    '-hls_list_size',
    '0',
    '-hls_flags',
    'independent_segments',
    '-hls_segment_type',
    fmp4 ? 'fmp4' : 'mpegts',
    ...(fmp4 ? ['-hls_fmp4_init_filename', 'init.mp4'] : []),
    '-hls_segment_filename',
    hls.segmentPattern,
    hls.playlist,
  ];
}

/** The encoded audio (.m4a) as a CMAF audio rendition for the HLS master and the DASH MPD. */
export function audioRenditionArgs(audioFile: string, hls: HlsOutputSpec): string[] {
  return [
    ...ffmpegGlobalArgs(),
    ...inputArgs({ file: audioFile, format: 'mov' }),
    '-map',
    '0:a:0',
    ...hlsOutputArgs({ ...hls, segmentType: 'fmp4' }),
  ];
}
