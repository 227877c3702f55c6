import fs from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { MediaflowError } from '../errors.js';
import { progressArgs } from '../ffmpeg/args/common.js';
import { concatListText, mergeArgs } from '../ffmpeg/args/concat-merge.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import { readAvcCodecString } from './codec-string.js';
import { parseMediaPlaylist } from './hls-playlist.js';
import { measureOutput, type OutputMeasure } from './measure.js';

export interface MergeInput {
  /** Rendition name (`720p`); names the outputs. */
  rendition: string;
  width: number;
  height: number;
  /** This rendition's encoded pieces in order, each with its exact duration from the split. */
  pieces: ReadonlyArray<{ file: string; duration: number }>;
  /** The whole source's audio (.m4a from encodeAudio), or null for silent output. */
  audioFile: string | null;
  hlsSegmentSeconds: number;
}

export interface MergeOptions {
  tools: MediaTools;
}

export interface HlsSegmentInfo {
  /** As written in the playlist (a name next to it). */
  uri: string;
  file: string;
  /** Start on the rendition's timeline (sum of the previous EXTINFs). */
  start: number;
  duration: number;
  bytes: number;
}

export interface MergedRendition {
  rendition: string;
  width: number;
  height: number;
  mp4File: string;
  mp4: OutputMeasure;
  /** Directory holding `index.m3u8` and its segments. */
  hlsDir: string;
  playlistFile: string;
  hlsSegments: HlsSegmentInfo[];
  /** Peak segment bitrate (HLS BANDWIDTH), bits per second. */
  peakBitrate: number;
  /** Total bytes over total duration of the HLS segments (HLS AVERAGE-BANDWIDTH). */
  averageBitrate: number;
  /** RFC 6381 codecs, e.g. `avc1.64001F,mp4a.40.2`. */
  codecs: string;
  frameRate: number | null;
  wallMs: number;
}

/**
 * Joins one rendition's encoded pieces without re-encoding and muxes in the audio, writing the
 * MP4 and the HLS rendition (media playlist and TS segments) in one pass. The concat list is
 * generated here, next to hard links of the pieces with generated names, so the concat demuxer
 * runs in safe mode. Bitrates and codec strings are measured from what was written.
 */
export async function mergeRendition(
  input: MergeInput,
  options: MergeOptions,
  ctx: FunctionContext,
): Promise<MergedRendition> {
  if (input.pieces.length === 0)
    throw new RangeError('Expected at least one piece to merge but received none');
  const name = safeName(input.rendition);
  const partsDir = path.join(ctx.scratchDir, `parts-${name}`);
  const hlsDir = path.join(ctx.scratchDir, 'hls', name);
  await fs.rm(partsDir, { recursive: true, force: true });
  await fs.rm(hlsDir, { recursive: true, force: true });
  await fs.mkdir(partsDir, { recursive: true });
  await fs.mkdir(hlsDir, { recursive: true });

  const entries = await Promise.all(
    input.pieces.map(async (piece, i) => {
      const entry = `part-${String(i).padStart(5, '0')}.mp4`;
      await linkOrCopy(piece.file, path.join(partsDir, entry));
      return { name: entry, durationSeconds: piece.duration };
    }),
  );
  const listFile = path.join(partsDir, 'list.ffconcat');
  await fs.writeFile(listFile, concatListText(entries));
  const totalDuration = input.pieces.reduce((sum, p) => sum + p.duration, 0);

  const mp4File = path.join(ctx.scratchDir, `${name}.mp4`);
  const playlistFile = path.join(hlsDir, 'index.m3u8');
  const args = mergeArgs({
    listFile,
    audioFile: input.audioFile,
    mp4: mp4File,
    hls: {
      playlist: playlistFile,
      segmentPattern: path.join(hlsDir, 'seg-%05d.ts'),
      segmentSeconds: input.hlsSegmentSeconds,
    },
  });
  try {
    const { wallMs } = await runFfmpeg(options.tools, [...progressArgs(), ...args], ctx, {
      label: `merge ${name}`,
      progressSeconds: totalDuration,
      progressScale: (f) => f * 0.95,
    });
    const [mp4, hlsSegments, avc] = await Promise.all([
      measureOutput(mp4File, options.tools, ctx),
      readHlsSegments(playlistFile, hlsDir),
      readAvcCodecString(mp4File),
    ]);
    if (!avc)
      throw new MediaflowError(
        'FFMPEG_FAILED',
        `The merged ${name} MP4 has no H.264 configuration record.`,
      );
    const { peak, average } = hlsBitrates(hlsSegments);
    ctx.onProgress(1);
    return {
      rendition: input.rendition,
      width: input.width,
      height: input.height,
      mp4File,
      mp4,
      hlsDir,
      playlistFile,
      hlsSegments,
      peakBitrate: peak,
      averageBitrate: average,
      codecs: input.audioFile ? `${avc},mp4a.40.2` : avc,
      frameRate: mp4.fps,
      wallMs,
    };
  } finally {
    // The links are only needed by ffmpeg; the encoded pieces themselves belong to the caller.
    await fs.rm(partsDir, { recursive: true, force: true });
  }
}

/** Peak and average bitrate over HLS segments, bits per second. Pure. */
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

/**
 * The smallest MPEG-TS segment ffmpeg's own HLS client (and so ffplay, mpv) recognises: its TS
 * probe needs ten 204-byte packets' worth of data, and below that it guesses MPEG-PS and fails
 * with "could not find codec parameters" (a 2-frame still video makes a 1.7 kB segment).
 */
export const MIN_TS_SEGMENT_BYTES = 12 * 188;
const TS_PACKET_BYTES = 188;
/** A TS null packet (PID 0x1FFF, payload only): stuffing every demuxer skips. */
const NULL_TS_PACKET = Buffer.concat([
  Buffer.from([0x47, 0x1f, 0xff, 0x10]),
  Buffer.alloc(TS_PACKET_BYTES - 4, 0xff),
]);

/**
 * Pads a TS segment shorter than {@link MIN_TS_SEGMENT_BYTES} with null packets. Exported for
 * tests.
 */
export async function padShortTsSegment(file: string): Promise<void> {
  const { size } = await fs.stat(file);
  if (size >= MIN_TS_SEGMENT_BYTES || size % TS_PACKET_BYTES !== 0) return;
  const count = Math.ceil((MIN_TS_SEGMENT_BYTES - size) / TS_PACKET_BYTES);
  await fs.appendFile(file, Buffer.concat(Array.from({ length: count }, () => NULL_TS_PACKET)));
}

async function readHlsSegments(playlistFile: string, hlsDir: string): Promise<HlsSegmentInfo[]> {
  const playlist = parseMediaPlaylist(await fs.readFile(playlistFile, 'utf8'));
  let start = 0;
  return Promise.all(
    playlist.segments.map(async (segment) => {
      if (segment.uri.includes('/'))
        throw new MediaflowError(
          'FFMPEG_FAILED',
          `The HLS playlist names a segment outside its folder: ${segment.uri}`,
        );
      const file = path.join(hlsDir, segment.uri);
      const at = start;
      start += segment.duration;
      await padShortTsSegment(file);
      const { size } = await fs.stat(file);
      return { uri: segment.uri, file, start: at, duration: segment.duration, bytes: size };
    }),
  );
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fs.link(from, to);
  } catch {
    await fs.copyFile(from, to);
  }
}

function safeName(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(name))
    throw new RangeError(
      `Expected a rendition name of letters, digits, _ and - but received ${JSON.stringify(name)}`,
    );
  return name;
}
