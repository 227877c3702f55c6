/**
 * HLS media and I-frame playlists over CMAF segments, written from measured segment facts rather
 * than taken from ffmpeg's muxer: durations come from the fragments' own sample tables, the
 * target duration follows RFC 8216's rounding, and EXT-X-VERSION is computed from the tags used.
 * Pure.
 */

export interface PlaylistSegment {
  /** Relative to the playlist (a file name next to it). */
  uri: string;
  /** Seconds. */
  duration: number;
  /** For I-frame playlists: the bytes of the segment that hold its first (sync) frame. */
  byteRange?: { offset: number; length: number };
}

export interface PlaylistFeatures {
  floatDurations: boolean;
  byteRanges: boolean;
  iFramesOnly: boolean;
  map: boolean;
}

/**
 * The lowest protocol version that allows every feature used (RFC 8216, section 7): decimal
 * EXTINF needs 3; EXT-X-BYTERANGE and EXT-X-I-FRAMES-ONLY need 4; EXT-X-MAP needs 5 in an
 * I-frame playlist and 6 in any other media playlist.
 */
export function playlistVersion(features: PlaylistFeatures): number {
  let version = 1;
  if (features.floatDurations) version = 3;
  if (features.byteRanges || features.iFramesOnly) version = 4;
  if (features.map) version = Math.max(version, features.iFramesOnly ? 5 : 6);
  return version;
}

/**
 * EXT-X-TARGETDURATION: every EXTINF rounded to the nearest integer must not exceed it (RFC 8216,
 * 4.3.3.1), so it is the largest rounded duration, and at least 1.
 */
export function targetDuration(durations: readonly number[]): number {
  return Math.max(1, ...durations.map((d) => Math.round(d)));
}

const SAFE_URI = /^[A-Za-z0-9_.-]+$/;

/** A VOD media playlist (or an I-frame playlist when every segment has a byte range). */
export function buildMediaPlaylist(options: {
  initUri: string;
  segments: readonly PlaylistSegment[];
  iFramesOnly?: boolean;
}): string {
  const { segments, initUri } = options;
  if (segments.length === 0)
    throw new RangeError('Expected at least one segment but received none');
  for (const uri of [initUri, ...segments.map((s) => s.uri)])
    if (!SAFE_URI.test(uri))
      throw new RangeError(
        `Expected a file name for a segment uri but received ${JSON.stringify(uri)}`,
      );
  const iFramesOnly = options.iFramesOnly ?? false;
  if (iFramesOnly && segments.some((s) => !s.byteRange))
    throw new RangeError('Expected a byte range for every segment of an I-frame playlist');
  const version = playlistVersion({
    floatDurations: true,
    byteRanges: segments.some((s) => s.byteRange),
    iFramesOnly,
    map: true,
  });
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${version}`,
    `#EXT-X-TARGETDURATION:${targetDuration(segments.map((s) => s.duration))}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  if (iFramesOnly) lines.push('#EXT-X-I-FRAMES-ONLY');
  lines.push(`#EXT-X-MAP:URI="${initUri}"`);
  for (const s of segments) {
    lines.push(`#EXTINF:${s.duration.toFixed(6)},`);
    if (s.byteRange) lines.push(`#EXT-X-BYTERANGE:${s.byteRange.length}@${s.byteRange.offset}`);
    lines.push(s.uri);
  }
  lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** Peak and average bits per second over segments (`bytes` may be any part of each). Pure. */
export function hlsBitrates(segments: ReadonlyArray<{ duration: number; bytes: number }>): {
  peak: number;
  average: number;
} {
  let peak = 0;
  let bytes = 0;
  let duration = 0;
  for (const s of segments) {
    bytes += s.bytes;
    duration += s.duration;
    // A very short final segment would overstate the peak; players judge whole segments anyway.
    if (s.duration >= 0.5 || segments.length === 1)
      peak = Math.max(peak, (s.bytes * 8) / s.duration);
  }
  const average = duration > 0 ? (bytes * 8) / duration : 0;
  return { peak: Math.ceil(Math.max(peak, average)), average: Math.ceil(average) };
}

/** A WebVTT subtitle playlist with one segment, the whole file, as long as the video. */
export function buildSubtitlePlaylist(uri: string, durationSeconds: number): string {
  if (!SAFE_URI.test(uri))
    throw new RangeError(
      `Expected a file name for a segment uri but received ${JSON.stringify(uri)}`,
    );
  const version = playlistVersion({
    floatDurations: true,
    byteRanges: false,
    iFramesOnly: false,
    map: false,
  });
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${version}`,
    `#EXT-X-TARGETDURATION:${targetDuration([durationSeconds])}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXTINF:${durationSeconds.toFixed(6)},`,
    uri,
    '#EXT-X-ENDLIST',
  ];
  return `${lines.join('\n')}\n`;
}
