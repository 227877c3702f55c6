import fs from 'node:fs';
import path from 'node:path';
import * as HLS from 'hls-parser';
import type { Binaries } from '../../functions/ffmpeg/binaries.js';
import { ffprobeJson } from './video-fixtures.js';

/**
 * Apple's HLS authoring rules that mediaflow promises, checked on a written HLS tree in one place:
 * every playlist re-read by hls-parser in strict mode (it throws on any RFC 8216 violation it
 * knows, including EXT-X-VERSION too low and EXTINF over TARGETDURATION), and the rules below
 * measured independently from the files. Returns every violation found (empty when all hold).
 */
export interface HlsTree {
  master: HLS.types.MasterPlaylist;
  /** Media playlists by URI relative to the master (video, audio and I-frame). */
  media: Map<string, HLS.types.MediaPlaylist>;
}

export function readHlsTree(masterFile: string): HlsTree {
  HLS.setOptions({ strictMode: true, silent: true });
  const dir = path.dirname(masterFile);
  const parse = (file: string) => HLS.parse(fs.readFileSync(file, 'utf8'));
  const master = parse(masterFile);
  if (!master.isMasterPlaylist) throw new Error(`${masterFile} is not a master playlist`);
  const uris = new Set<string>();
  for (const v of master.variants) {
    uris.add(v.uri);
    for (const r of [...v.audio, ...v.subtitles]) if (r.uri) uris.add(r.uri);
  }
  const media = new Map<string, HLS.types.MediaPlaylist>();
  for (const uri of uris) {
    const playlist = parse(path.join(dir, uri));
    if (playlist.isMasterPlaylist) throw new Error(`${uri} is a master playlist`);
    media.set(uri, playlist);
  }
  return { master, media };
}

const bytesOf = (dir: string, s: HLS.types.Segment) =>
  s.byterange ? s.byterange.length : fs.statSync(path.join(dir, s.uri)).size;

/** Peak (segments of 0.5 s or more) and average bits per second of a media playlist. */
export function measuredBitrates(
  dir: string,
  playlist: HLS.types.MediaPlaylist,
): { peak: number; average: number } {
  let bytes = 0;
  let seconds = 0;
  let peak = 0;
  for (const s of playlist.segments) {
    const b = bytesOf(dir, s);
    bytes += b;
    seconds += s.duration;
    if (s.duration >= 0.5 || playlist.segments.length === 1)
      peak = Math.max(peak, (b * 8) / s.duration);
  }
  return { peak: Math.max(peak, (bytes * 8) / seconds), average: (bytes * 8) / seconds };
}

const within = (claimed: number | undefined, measured: number, share = 0.1) =>
  claimed !== undefined && Math.abs(claimed - measured) <= measured * share;

export function appleRuleViolations(
  bin: Binaries,
  masterFile: string,
  options: { audio: boolean },
): string[] {
  const errors: string[] = [];
  const { master, media } = readHlsTree(masterFile);
  const dir = path.dirname(masterFile);
  const playlistDir = (uri: string) => path.dirname(path.join(dir, uri));
  const variants = master.variants.filter((v) => !v.isIFrameOnly);
  const iframes = master.variants.filter((v) => v.isIFrameOnly);
  if (variants.length === 0) errors.push('no variants');

  for (const v of [...variants, ...iframes]) {
    const playlist = media.get(v.uri);
    if (!playlist) {
      errors.push(`${v.uri}: not read`);
      continue;
    }
    if (!v.codecs) errors.push(`${v.uri}: no CODECS`);
    if (!v.resolution) errors.push(`${v.uri}: no RESOLUTION`);
    if (!v.isIFrameOnly && !v.frameRate) errors.push(`${v.uri}: no FRAME-RATE`);
    // fMP4 (CMAF): every segment under an EXT-X-MAP, in .m4s files.
    if (playlist.segments.some((s) => !s.map || !s.uri.endsWith('.m4s')))
      errors.push(`${v.uri}: not fMP4 segments`);
    if (Boolean(playlist.isIFrame) !== Boolean(v.isIFrameOnly))
      errors.push(`${v.uri}: I-frame tag and playlist disagree`);
  }

  // Audio as its own rendition, listed in CODECS too.
  if (options.audio) {
    for (const v of variants) {
      if (v.audio.length === 0) errors.push(`${v.uri}: no AUDIO group`);
      const audioCodecs = new Set(
        v.audio.flatMap((r) => (r.uri ? [audioCodecOf(bin, path.join(dir, r.uri))] : [])),
      );
      for (const codec of audioCodecs)
        if (!v.codecs?.split(',').includes(codec)) errors.push(`${v.uri}: CODECS lacks ${codec}`);
    }
    const defaults = variants[0]?.audio.filter((r) => r.isDefault) ?? [];
    if (defaults.length !== 1) errors.push(`${defaults.length} DEFAULT audio renditions, not 1`);
  }

  // An I-frame playlist for every variant, at the same resolution and video codec.
  for (const v of variants) {
    const video = v.codecs?.split(',')[0];
    const match = iframes.find(
      (i) =>
        i.resolution?.width === v.resolution?.width &&
        i.resolution?.height === v.resolution?.height &&
        i.codecs === video,
    );
    if (!match) errors.push(`${v.uri}: no I-frame playlist`);
  }

  // VIDEO-RANGE on every variant when any is not SDR, and then an SDR variant too.
  const ranges = variants.map((v) => v.videoRange);
  if (ranges.some((r) => r && r !== 'SDR')) {
    if (ranges.some((r) => !r)) errors.push('VIDEO-RANGE missing on some variants');
    if (!ranges.includes('SDR')) errors.push('HDR variants without an SDR variant');
  }

  // Measured BANDWIDTH and AVERAGE-BANDWIDTH (video plus the largest audio rendition), 10%.
  for (const v of [...variants, ...iframes]) {
    const own = measuredBitrates(playlistDir(v.uri), media.get(v.uri)!);
    const audio = v.isIFrameOnly
      ? []
      : v.audio.flatMap((r) =>
          r.uri ? [measuredBitrates(playlistDir(r.uri), media.get(r.uri)!)] : [],
        );
    const peak = own.peak + Math.max(0, ...audio.map((a) => a.peak));
    const average = own.average + Math.max(0, ...audio.map((a) => a.average));
    if (!within(v.bandwidth, peak))
      errors.push(`${v.uri}: BANDWIDTH ${v.bandwidth} vs measured ${Math.round(peak)}`);
    if (!within(v.averageBandwidth, average))
      errors.push(`${v.uri}: AVERAGE-BANDWIDTH ${v.averageBandwidth} vs ${Math.round(average)}`);
  }

  // TARGETDURATION is the largest EXTINF rounded to the nearest integer (RFC 8216, 4.3.3.1).
  for (const [uri, playlist] of media) {
    const want = Math.max(1, ...playlist.segments.map((s) => Math.round(s.duration)));
    if (playlist.targetDuration !== want)
      errors.push(`${uri}: TARGETDURATION ${playlist.targetDuration}, want ${want}`);
    if (!playlist.endlist || playlist.playlistType !== 'VOD') errors.push(`${uri}: not VOD`);
  }

  // Identical segment boundaries across the video renditions.
  const boundaries = new Set(
    variants.map((v) =>
      media
        .get(v.uri)!
        .segments.map((s) => s.duration.toFixed(3))
        .join(' '),
    ),
  );
  if (boundaries.size > 1) errors.push(`segment boundaries differ: ${[...boundaries].join(' | ')}`);
  return errors;
}

/** The codec string of an audio rendition, from ffprobe's reading of its stream. */
function audioCodecOf(bin: Binaries, playlistFile: string): string {
  const { streams } = ffprobeJson<{ streams: Array<{ codec_name?: string; profile?: string }> }>(
    bin,
    ['-show_streams', '-select_streams', 'a:0', playlistFile],
  );
  const stream = streams[0];
  if (stream?.codec_name !== 'aac') return stream?.codec_name ?? 'none';
  return (
    { LC: 'mp4a.40.2', HE: 'mp4a.40.5', 'HE-AACv2': 'mp4a.40.29' }[stream.profile ?? ''] ?? '?'
  );
}
