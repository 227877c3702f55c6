/**
 * The HLS master playlist, written in code: the bundled ffmpeg's `-master_pl_name` crashes and
 * leaves it empty. Pure.
 */
export interface MasterVariant {
  /** The rendition's media playlist, relative to the master (e.g. `720p/index.m3u8`). */
  uri: string;
  /** Peak segment bitrate, bits per second. */
  bandwidth: number;
  averageBandwidth: number;
  width: number;
  height: number;
  /** RFC 6381, e.g. `avc1.64001F,mp4a.40.2`. */
  codecs: string;
  frameRate: number | null;
}

export interface MasterOptions {
  /** EXT-X-VERSION; 6 matches the media playlists ffmpeg writes with independent segments. */
  version?: number;
}

/** Builds the master playlist, variants sorted by bandwidth (lowest first, where players start). */
export function buildMasterPlaylist(
  variants: readonly MasterVariant[],
  options: MasterOptions = {},
): string {
  if (variants.length === 0)
    throw new RangeError('Expected at least one variant but received none');
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${options.version ?? 6}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  const sorted = [...variants].sort((a, b) => a.bandwidth - b.bandwidth || a.height - b.height);
  for (const v of sorted) {
    if (!/^[A-Za-z0-9_./-]+$/.test(v.uri) || v.uri.includes('..'))
      throw new RangeError(
        `Expected a relative playlist path for uri but received ${JSON.stringify(v.uri)}`,
      );
    if (!/^[A-Za-z0-9.,]+$/.test(v.codecs))
      throw new RangeError(
        `Expected RFC 6381 codec strings for codecs but received ${JSON.stringify(v.codecs)}`,
      );
    const attributes = [
      `BANDWIDTH=${Math.ceil(v.bandwidth)}`,
      `AVERAGE-BANDWIDTH=${Math.ceil(v.averageBandwidth)}`,
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS="${v.codecs}"`,
    ];
    if (v.frameRate && v.frameRate > 0) attributes.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, v.uri);
  }
  return `${lines.join('\n')}\n`;
}
