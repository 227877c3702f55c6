/**
 * The HLS master playlist, written in code from measured facts (the bundled ffmpeg's
 * `-master_pl_name` crashes and leaves it empty). Pure.
 */
export interface MasterVariant {
  /** The rendition's media playlist, relative to the master (e.g. `720p/index.m3u8`). */
  uri: string;
  /** Peak segment bitrate, bits per second (with the audio rendition's, when audio is separate). */
  bandwidth: number;
  averageBandwidth: number;
  width: number;
  height: number;
  /** RFC 6381, e.g. `avc1.64001F,mp4a.40.2`. */
  codecs: string;
  frameRate: number | null;
  /** GROUP-ID of the audio renditions this variant plays with (CMAF packaging). */
  audioGroup?: string;
  /** GROUP-ID of the subtitle renditions. */
  subtitlesGroup?: string;
  /** Written on every variant when any variant is not SDR. */
  videoRange?: 'SDR' | 'PQ' | 'HLG';
  /** HLS `SCORE`: the variant's relative quality, for a codec-aware choice among sets. */
  score?: number;
  /** Listing order: higher first (the more efficient codec sets), then by bandwidth. */
  preference?: number;
  /** The variant's I-frame playlist and its measured bitrates (video codec only). */
  iframes?: { uri: string; bandwidth: number; averageBandwidth: number; codecs: string };
}

/** An alternative rendition (EXT-X-MEDIA): an audio language or a subtitle track. */
export interface MasterMedia {
  type: 'AUDIO' | 'SUBTITLES';
  groupId: string;
  name: string;
  /** BCP 47 / ISO 639 tag from the source, when it has one. */
  language?: string;
  isDefault: boolean;
  /** Audio channel count. */
  channels?: number;
  uri: string;
}

export interface MasterOptions {
  /**
   * EXT-X-VERSION. Defaults to 6, the version of the media playlists (EXT-X-MAP in fMP4, or
   * ffmpeg's TS playlists): a client that cannot read them should stop at the master.
   */
  version?: number;
  media?: readonly MasterMedia[];
}

const SAFE_URI = /^[A-Za-z0-9_./-]+$/;
/**
 * A quoted-string attribute. RFC 8216 forbids only `"` and line breaks, but hls-parser (and so
 * perhaps players) also takes `'` for a quote: both become typographic quotes.
 */
const quoted = (text: string) =>
  `"${text
    .replace(/[\r\n]+/g, ' ')
    .replace(/"/g, '\u201d')
    .replace(/'/g, '\u2019')}"`;

function checkUri(uri: string): void {
  if (!SAFE_URI.test(uri) || uri.includes('..'))
    throw new RangeError(
      `Expected a relative playlist path for uri but received ${JSON.stringify(uri)}`,
    );
}

function checkCodecs(codecs: string): void {
  if (!/^[A-Za-z0-9.,]+$/.test(codecs))
    throw new RangeError(
      `Expected RFC 6381 codec strings for codecs but received ${JSON.stringify(codecs)}`,
    );
}

/**
 * Builds the master playlist: alternative renditions first, then the variants sorted by
 * preference (highest first, when set: a player starts with the first variant it can decode) and
 * bandwidth (lowest first, where players start), then one I-frame playlist per variant that has
 * one.
 */
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
  for (const m of options.media ?? []) {
    checkUri(m.uri);
    const attributes = [
      `TYPE=${m.type}`,
      `GROUP-ID=${quoted(m.groupId)}`,
      `NAME=${quoted(m.name)}`,
    ];
    if (m.language) attributes.push(`LANGUAGE=${quoted(m.language)}`);
    attributes.push(`DEFAULT=${m.isDefault ? 'YES' : 'NO'}`, 'AUTOSELECT=YES');
    if (m.channels) attributes.push(`CHANNELS="${m.channels}"`);
    attributes.push(`URI=${quoted(m.uri)}`);
    lines.push(`#EXT-X-MEDIA:${attributes.join(',')}`);
  }
  const sorted = [...variants].sort(
    (a, b) =>
      (b.preference ?? 0) - (a.preference ?? 0) || a.bandwidth - b.bandwidth || a.height - b.height,
  );
  for (const v of sorted) {
    checkUri(v.uri);
    checkCodecs(v.codecs);
    const attributes = [
      `BANDWIDTH=${Math.ceil(v.bandwidth)}`,
      `AVERAGE-BANDWIDTH=${Math.ceil(v.averageBandwidth)}`,
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS="${v.codecs}"`,
    ];
    if (v.frameRate && v.frameRate > 0) attributes.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    if (v.videoRange) attributes.push(`VIDEO-RANGE=${v.videoRange}`);
    if (v.score !== undefined) attributes.push(`SCORE=${v.score.toFixed(2)}`);
    if (v.audioGroup) attributes.push(`AUDIO=${quoted(v.audioGroup)}`);
    if (v.subtitlesGroup) attributes.push(`SUBTITLES=${quoted(v.subtitlesGroup)}`);
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, v.uri);
  }
  for (const v of sorted) {
    if (!v.iframes) continue;
    checkUri(v.iframes.uri);
    checkCodecs(v.iframes.codecs);
    const attributes = [
      `BANDWIDTH=${Math.ceil(v.iframes.bandwidth)}`,
      `AVERAGE-BANDWIDTH=${Math.ceil(v.iframes.averageBandwidth)}`,
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS="${v.iframes.codecs}"`,
    ];
    if (v.videoRange) attributes.push(`VIDEO-RANGE=${v.videoRange}`);
    // SCORE on every variant stream when on any (I-frame ones count), as RFC 8216bis asks.
    if (v.score !== undefined) attributes.push(`SCORE=${v.score.toFixed(2)}`);
    attributes.push(`URI=${quoted(v.iframes.uri)}`);
    lines.push(`#EXT-X-I-FRAME-STREAM-INF:${attributes.join(',')}`);
  }
  return `${lines.join('\n')}\n`;
}
