import fs from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { MediaflowError } from '../errors.js';
import { progressArgs } from '../ffmpeg/args/common.js';
import { concatListText, mergeArgs } from '../ffmpeg/args/concat-merge.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import { hlsBitrates } from './cmaf-playlists.js';
import { finishCmafRendition, safeName, type CmafRendition } from './cmaf-rendition.js';
import { readVideoCodecString } from './codec-string.js';
import { parseMediaPlaylist } from './hls-playlist.js';
import { measureOutput, type OutputMeasure } from './measure.js';
import { scanVideoPackets } from './packets.js';
import { checkJoins, type PieceEnds, type SeamRecord } from './seam-qc.js';

export interface MergeInput {
  /** Rendition name (`720p`); names the outputs. */
  rendition: string;
  width: number;
  height: number;
  /** This rendition's encoded pieces in order, each with its exact duration from the split. */
  pieces: ReadonlyArray<{
    file: string;
    duration: number;
    /** Frames of the piece, for seam QC (checked when every piece has it). */
    frameCount?: number;
    /** SSIM of the piece's first and last frames (seam QC, recorded per join). */
    ends?: PieceEnds;
  }>;
  /** The whole source's audio (.m4a from encodeAudio), or null for silent output. */
  audioFile: string | null;
  hlsSegmentSeconds: number;
  /**
   * `ts` (the default): MPEG-TS segments with the audio muxed in. `cmaf`: fMP4 video segments for
   * the HLS master and the DASH MPD, audio being its own rendition; adds an I-frame playlist.
   */
  packaging?: 'ts' | 'cmaf';
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
  /** RFC 6381 codecs of the HLS segments, e.g. `avc1.64001F,mp4a.40.2` (no audio in CMAF). */
  codecs: string;
  /** The CMAF facts (segments with decode times, I-frame playlist), for `cmaf` packaging. */
  cmaf: CmafRendition | null;
  frameRate: number | null;
  /** Seam QC of each join (pieces that carried frame counts), for the manifest. */
  seams: SeamRecord[] | null;
  wallMs: number;
}

/**
 * Joins one rendition's encoded pieces without re-encoding and muxes in the audio, writing the
 * MP4 and the HLS rendition (playlist and TS or CMAF segments) in one pass. The concat list is
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
  const cmaf = input.packaging === 'cmaf';
  const ffmpegPlaylist = path.join(hlsDir, cmaf ? 'ffmpeg.m3u8' : 'index.m3u8');
  const args = mergeArgs({
    listFile,
    audioFile: input.audioFile,
    mp4: mp4File,
    hls: {
      playlist: ffmpegPlaylist,
      segmentPattern: path.join(hlsDir, cmaf ? 'seg-%05d.m4s' : 'seg-%05d.ts'),
      segmentSeconds: input.hlsSegmentSeconds,
      segmentType: cmaf ? 'fmp4' : 'mpegts',
    },
  });
  try {
    const { wallMs } = await runFfmpeg(options.tools, [...progressArgs(), ...args], ctx, {
      label: `merge ${name}`,
      progressSeconds: totalDuration,
      progressScale: (f) => f * 0.95,
    });
    const [mp4, fragmented, video] = await Promise.all([
      measureOutput(mp4File, options.tools, ctx),
      cmaf ? finishCmafRendition(hlsDir, ffmpegPlaylist, name) : null,
      readVideoCodecString(mp4File),
    ]);
    const hlsSegments = fragmented
      ? fragmented.segments.map((s, i) => ({
          uri: s.uri,
          file: s.file,
          start: fragmented.segments.slice(0, i).reduce((sum, x) => sum + x.seconds, 0),
          duration: s.seconds,
          bytes: s.bytes,
        }))
      : await readHlsSegments(ffmpegPlaylist, hlsDir);
    if (!video)
      throw new MediaflowError(
        'FFMPEG_FAILED',
        `The merged ${name} MP4 has no video configuration record (avcC, hvcC or av1C).`,
      );
    const { peak, average } = hlsBitrates(hlsSegments);
    const seams = await seamQc(input, mp4File, options.tools, ctx);
    ctx.onProgress(1);
    return {
      rendition: input.rendition,
      width: input.width,
      height: input.height,
      mp4File,
      mp4,
      hlsDir,
      playlistFile: path.join(hlsDir, 'index.m3u8'),
      hlsSegments,
      peakBitrate: peak,
      averageBitrate: average,
      codecs: input.audioFile && !cmaf ? `${video},mp4a.40.2` : video,
      cmaf: fragmented,
      frameRate: mp4.fps,
      seams,
      wallMs,
    };
  } finally {
    // The links are only needed by ffmpeg; the encoded pieces themselves belong to the caller.
    await fs.rm(partsDir, { recursive: true, force: true });
  }
}

/**
 * Seam QC of the merged MP4: its frame count is the pieces' sum and every join is one frame
 * interval wide, else the merge fails (a lost or doubled frame at a join is a defect, not a
 * quality trade-off). Null when there are no joins or the pieces carry no frame counts.
 */
async function seamQc(
  input: MergeInput,
  mp4File: string,
  tools: MediaTools,
  ctx: FunctionContext,
): Promise<SeamRecord[] | null> {
  const counted = input.pieces.flatMap((p) =>
    p.frameCount ? [{ duration: p.duration, frameCount: p.frameCount, ends: p.ends }] : [],
  );
  if (input.pieces.length < 2 || counted.length !== input.pieces.length) return null;
  const { seams, problem } = checkJoins(
    await scanVideoPackets(mp4File, 'mp4', tools, ctx),
    counted,
  );
  if (problem)
    throw new MediaflowError('FFMPEG_FAILED', `Seam check of ${input.rendition}: ${problem}.`);
  const visible = seams.filter((s) => !s.ok);
  if (visible.length) ctx.log.warn({ rendition: input.rendition, seams: visible }, 'visible seams');
  return seams;
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
