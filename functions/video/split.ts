import fs from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { MediaflowError } from '../errors.js';
import { splitArgs } from '../ffmpeg/args/split.js';
import type { FrameTiming } from '../ffmpeg/args/transcode-ladder.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import type { MediaInfo, Rational, VideoStreamInfo } from './media-info.js';
import { isRawVideoStream } from './limits.js';
import { fittedFps, STANDARD_RATES } from './packet-timing.js';
import { closedKeyframeTimes, scanVideoPackets, type VideoPacket } from './packets.js';
import { leadInStart, prerollFrames, type Preroll } from './seam-preroll.js';
import { planSplit } from './split-plan.js';

/** One piece of the video track, to be transcoded on its own. */
export interface VideoSegment {
  index: number;
  /** The piece (a NUT file under scratch), or the source itself when it was not split. */
  file: string;
  /** The demuxer to read `file` with: `nut` for pieces, the source's demuxer when not split. */
  format: string;
  /** Seconds from the first video frame of the source: where this piece starts in the output. */
  start: number;
  /** Exact length on the output timeline; the next piece starts at start + duration. */
  duration: number;
  frameCount: number;
  /**
   * The output frame grid, and a resample plan for variable-frame-rate sources (see `frameGrid`).
   */
  timing?: FrameTiming;
  /** The end of the previous piece, to warm the encoders up on (see `seam-preroll.ts`). */
  preroll?: Preroll;
}

export interface SplitResult {
  segments: VideoSegment[];
  /** `split`: NUT pieces were written; `whole`: one segment, the source itself. */
  mode: 'split' | 'whole';
  /** Why the source was not split (short, no usable keyframes, codec, a failed check). */
  reason?: string;
  /** Video duration from the first frame to the end of the last frame. */
  duration: number;
}

export interface SplitOptions {
  tools: MediaTools;
  /** Aimed-for piece length in seconds (cuts land on keyframes at or after it). */
  segmentSeconds: number;
  /** The most pieces; the length grows to respect it. */
  maxSegments: number;
  /** Task slots that will transcode the pieces (see `planSplit`). */
  slots?: number | undefined;
  /** The HLS segment length: cuts prefer keyframes on its grid (see `planSplit`). */
  alignSeconds?: number | undefined;
  /** Seconds of pre-roll for each piece after the first; 0 or unset: none. */
  prerollSeconds?: number | undefined;
}

/**
 * Codecs whose packets stream-copy into NUT and decode on their own from a keyframe. Anything else
 * (e.g. Theora, whose headers live outside the packets, or codecs with pts-less packets) is not
 * split: one whole-source segment is slower but always correct. H.264 High 4:4:4 is not split
 * either: for lossless 4:4:4 from x264 before build 151, ffmpeg's decoder switches to x264's
 * (non-standard) intra prediction only after reading x264's version SEI in the first access unit,
 * so a piece that starts at a later IDR decodes to garbage (seen in the corpus: cockatoo.mp4).
 */
export const SPLITTABLE_CODECS: ReadonlySet<string> = new Set([
  'h264',
  'hevc',
  'mpeg4',
  'mpeg2video',
  'mpeg1video',
  'vp8',
  'vp9',
  'av1',
  'mjpeg',
  'prores',
  'dnxhd',
  'h263',
  'flv1',
]);

/** Pieces read back at once after the cut. */
const SCAN_PARALLELISM = 4;

/**
 * Cuts the video track into keyframe-aligned pieces by stream copy into NUT (NUT keeps the source
 * time base exactly, where Matroska rounds to milliseconds, and carries any codec). Each piece's
 * real start is read back from the piece, and the result is checked (piece count, total packets,
 * every piece starting on a keyframe); on any doubt it falls back to one whole-source segment.
 */
export async function splitVideo(
  inputFile: string,
  info: MediaInfo,
  options: SplitOptions,
  ctx: FunctionContext,
): Promise<SplitResult> {
  const video = info.video;
  if (!video) throw new MediaflowError('MEDIA_UNSUPPORTED', 'The source has no video to split.');
  const packets = await scanVideoPackets(inputFile, info.demuxer, options.tools, ctx);
  const timed = packets.filter((p) => p.pts !== null);
  if (packets.length === 0)
    throw new MediaflowError('MEDIA_UNREADABLE', 'The source has no video packets.');

  // A raw stream's times are made up by ffmpeg at its nominal rate (m4v's packets show them), and
  // a stream timed only in places has holes: both are one frame per packet at the nominal rate.
  const raw = isRawVideoStream(info.demuxer);
  const stamped = !raw && timed.length === packets.length;
  const first = timed.length ? minPts(timed) : 0;
  const sourceDuration = stamped
    ? videoEnd(timed, video.fps) - first
    : video.fps > 0
      ? packets.length / video.fps
      : (video.duration ?? info.duration);
  const grid = stamped
    ? frameGrid(
        timed.map((p) => p.pts! - first),
        video,
      )
    : video.fps > 0
      ? { rate: video.frameRate, resample: false }
      : null;
  if (grid?.resample)
    ctx.log.info({ rate: grid.rate }, 'variable frame rate: resampling to constant rate');
  // Resampled output is a whole number of grid slots long; the audio is cut to the same length.
  const duration = grid?.resample
    ? placeOnGrid(0, sourceDuration, packets.length, grid).duration
    : sourceDuration;
  const whole = (reason: string): SplitResult => {
    ctx.log.info({ reason }, 'not splitting');
    ctx.onProgress(1);
    return {
      mode: 'whole',
      reason,
      duration,
      segments: [
        {
          index: 0,
          file: inputFile,
          format: info.demuxer,
          ...placeOnGrid(0, sourceDuration, packets.length, grid),
        },
      ],
    };
  };

  if (raw) return whole('raw elementary stream: no timestamps of its own');
  if (!SPLITTABLE_CODECS.has(video.codec)) return whole(`codec ${video.codec} is not split`);
  if (video.codec === 'h264' && /4:4:4/.test(video.profile ?? ''))
    return whole('H.264 High 4:4:4 is not split');
  if (!stamped) return whole('some packets have no timestamp');
  const closed = closedKeyframeTimes(packets).map((t) => t - first);
  const plan = planSplit(closed, sourceDuration, options);
  if (plan.cuts.length === 0) return whole('short source or no usable keyframes');

  const dir = path.join(ctx.scratchDir, 'segments');
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const cutTimes = muxerCutTimes(plan.cuts, packets, first, info.startTime);
  await runFfmpeg(
    options.tools,
    splitArgs({
      input: { file: inputFile, format: info.demuxer },
      cutTimes,
      pattern: path.join(dir, 'seg-%05d.nut'),
      segmentFormat: 'nut',
    }),
    ctx,
    { label: 'split' },
  );

  const files = (await fs.readdir(dir))
    .filter((f) => f.endsWith('.nut'))
    .sort()
    .map((f) => path.join(dir, f));
  // A few ffprobes at a time: one per piece at once put a process (and an abort listener) per
  // piece on the task, dozens for a long source.
  const pieces: Array<{ file: string; packets: VideoPacket[] }> = [];
  for (let i = 0; i < files.length; i += SCAN_PARALLELISM) {
    const batch = files.slice(i, i + SCAN_PARALLELISM);
    pieces.push(
      ...(await Promise.all(
        batch.map(async (file) => ({
          file,
          packets: await scanVideoPackets(file, 'nut', options.tools, ctx),
        })),
      )),
    );
  }
  const problem = checkPieces(
    pieces.map((p) => p.packets),
    plan.cuts,
    packets.length,
  );
  if (problem) {
    ctx.log.warn({ problem }, 'split check failed; using the whole source');
    await fs.rm(dir, { recursive: true, force: true });
    return whole(`split check failed: ${problem}`);
  }

  const pieceStart = minPts(pieces[0]!.packets);
  const starts = pieces.map((p) => minPts(p.packets) - pieceStart);
  const segments = pieces.map(
    (piece, index): VideoSegment => ({
      index,
      file: piece.file,
      format: 'nut',
      ...placeOnGrid(
        starts[index]!,
        index + 1 < starts.length ? starts[index + 1]! : sourceDuration,
        piece.packets.length,
        grid,
      ),
    }),
  );
  if (segments.some((s) => !(s.frameCount > 0))) {
    await fs.rm(dir, { recursive: true, force: true });
    return whole('a piece is shorter than one frame of the output grid');
  }
  if (options.prerollSeconds && grid && !grid.resample)
    await addPrerolls(segments, pieces, options.prerollSeconds, grid.rate, options.tools, ctx);
  ctx.onProgress(1);
  return { mode: 'split', duration, segments };
}

/**
 * Gives each piece after the first a lead-in from the end of the piece before it: that piece
 * itself when its last usable keyframe is its first, else its tail from that keyframe, stream
 * copied (a few at a time). A lead-in that does not come out as planned is left out: the piece
 * then starts cold, which costs bytes, never correctness.
 */
async function addPrerolls(
  segments: VideoSegment[],
  pieces: ReadonlyArray<{ file: string; packets: VideoPacket[] }>,
  seconds: number,
  rate: Rational,
  tools: MediaTools,
  ctx: FunctionContext,
): Promise<void> {
  const fps = rate.num / rate.den;
  const work = segments.slice(1).map((segment, k) => async () => {
    const previous = pieces[k]!;
    const start = minPts(previous.packets);
    const keys = closedKeyframeTimes(previous.packets).map((t) => t - start);
    const lead = leadInStart(keys, segments[k]!.duration, seconds);
    if (lead === null) return;
    const leadPackets = previous.packets.filter((p) => p.pts! - start >= lead - 1e-6).length;
    let file = previous.file;
    if (lead > 0) {
      const pattern = path.join(path.dirname(previous.file), `lead-${segment.index}-%d.nut`);
      await runFfmpeg(
        tools,
        splitArgs({
          input: { file: previous.file, format: 'nut' },
          cutTimes: muxerCutTimes([lead], previous.packets, start, start),
          pattern: pattern.replace('%d', '%05d'),
          segmentFormat: 'nut',
        }),
        ctx,
        { label: `lead-in ${segment.index}` },
      );
      file = pattern.replace('%d', '00001');
      await fs.rm(pattern.replace('%d', '00000'), { force: true });
      const read = await scanVideoPackets(file, 'nut', tools, ctx).catch(() => []);
      if (read.length !== leadPackets || !read[0]?.keyframe) {
        ctx.log.warn({ segment: segment.index }, 'lead-in check failed; no pre-roll');
        return;
      }
    }
    const frames = prerollFrames(leadPackets, seconds, fps);
    segment.preroll = { file, format: 'nut', skipFrames: leadPackets - frames, frames };
  });
  for (let i = 0; i < work.length; i += SCAN_PARALLELISM)
    await Promise.all(work.slice(i, i + SCAN_PARALLELISM).map((w) => w()));
}

export interface FrameGrid {
  rate: Rational;
  /** Frames collide on every candidate grid: resample to constant rate. */
  resample: boolean;
}

/**
 * The output frame grid for a source whose frames sit at `times` (seconds from the first frame).
 * Frames pass through with their own timestamps rounded onto a grid of 1/rate, which is exact
 * only when the frames fill the grid one per slot. Two frames in one slot give the encoder and
 * muxer equal timestamps; an empty slot (a frame held longer, a dropped frame) is not carried
 * into x264's packet durations, so the HLS muxer, which sums them, writes EXTINFs short by the
 * gap. The base rate (r_frame_rate) is tried first, as ffmpeg itself would, then the average; a
 * source that fits neither is variable-frame-rate and is resampled to a constant rate (see
 * `resampleRate`): held frames are repeated, frames sharing a slot are dropped. A base rate far
 * above any real frame rate (90000 from a jittery clock) is not a grid. Null when the frame rate
 * is unknown. Pure; exported for tests.
 */
export function frameGrid(
  times: readonly number[],
  video: Pick<VideoStreamInfo, 'frameRate' | 'baseFrameRate'>,
): FrameGrid | null {
  const average = video.frameRate;
  if (!(average.num > 0 && average.den > 0)) return null;
  const averageFps = average.num / average.den;
  const base = video.baseFrameRate;
  const candidates =
    base && base.num / base.den <= Math.max(120, averageFps * 1.001) ? [base, average] : [average];
  const sorted = [...times].sort((a, b) => a - b);
  for (const rate of candidates) {
    if (fillsGrid(sorted, rate)) return { rate, resample: false };
  }
  return { rate: resampleRate(base, average, fittedFps(sorted)), resample: true };
}

/**
 * The constant rate a variable-frame-rate source is resampled to: its base rate when that is a
 * plausible nominal rate (at most twice the average: a phone's 30 fps that drops to 15 in low
 * light), else a standard rate within 3% of the average, else the average rounded to whole frames
 * per second. `fitted`, the rate measured from the frame times, stands in for the average when
 * known. Never the raw average (e.g. 30.1): ffmpeg's own rate guess snaps such a stream to
 * 30/1, and tools that trust it (players, `ffmpeg -f null`) then see colliding timestamps.
 */
export function resampleRate(base: Rational | null, average: Rational, fitted?: number): Rational {
  const fps = fitted ?? average.num / average.den;
  if (base && base.num / base.den >= fps * 0.999 && base.num / base.den <= fps * 2) return base;
  const near = STANDARD_RATES.map((r) => ({ r, error: Math.abs(r.num / r.den - fps) / fps })).sort(
    (a, b) => a.error - b.error,
  )[0]!;
  if (near.error <= 0.03) return near.r;
  return { num: Math.max(1, Math.round(fps)), den: 1 };
}

/** True when the (sorted) times, from 0, round onto consecutive slots of a 1/rate grid. */
function fillsGrid(sorted: readonly number[], rate: Rational): boolean {
  return sorted.every((t, k) => Math.round((t * rate.num) / rate.den) === k);
}

/**
 * Where a piece from `start` to `end` (seconds from the first frame) lands on the output. Passed
 * through, it keeps its times and frames. Resampled, it covers the grid slots from round(start)
 * to round(end): the same slots the `fps` filter would give those frames over the whole file, so
 * the pieces join with no slot missing or doubled. Exported for tests.
 */
export function placeOnGrid(
  start: number,
  end: number,
  frameCount: number,
  grid: FrameGrid | null,
): Pick<VideoSegment, 'start' | 'duration' | 'frameCount' | 'timing'> {
  if (!grid) return { start, duration: end - start, frameCount };
  if (!grid.resample)
    return { start, duration: end - start, frameCount, timing: { rate: grid.rate } };
  const { num, den } = grid.rate;
  const first = Math.round((start * num) / den);
  const frames = Math.round((end * num) / den) - first;
  const gridStart = (first * den) / num;
  return {
    start: gridStart,
    duration: (frames * den) / num,
    frameCount: frames,
    timing: { rate: grid.rate, resample: { offset: start - gridStart, frames } },
  };
}

/** Smallest pts (a loop: spreading 100k+ values into Math.min overflows the stack). */
function minPts(packets: readonly VideoPacket[]): number {
  let min = Infinity;
  for (const p of packets) if (p.pts !== null && p.pts < min) min = p.pts;
  return min;
}

/**
 * End of the last frame: the latest pts plus that packet's duration (or one frame at the average
 * rate).
 */
function videoEnd(packets: readonly VideoPacket[], fps: number): number {
  let end = -Infinity;
  for (const p of packets) {
    const length = p.duration && p.duration > 0 ? p.duration : fps > 0 ? 1 / fps : 0;
    end = Math.max(end, p.pts! + length);
  }
  return end;
}

/**
 * Cut times for the segment muxer, which cuts at the first keyframe at or after each time on
 * ffmpeg's timeline (source pts minus the container start). Each time sits halfway between the
 * chosen keyframe and the keyframe before it, so a small disagreement between this ffprobe and
 * that ffmpeg about timestamps (B-frame delay, edit lists) cannot move the cut.
 */
export function muxerCutTimes(
  cuts: readonly number[],
  packets: readonly VideoPacket[],
  first: number,
  containerStart: number,
): number[] {
  const keys = packets
    .filter((p) => p.keyframe && p.pts !== null)
    .map((p) => p.pts! - first)
    .sort((a, b) => a - b);
  return cuts.map((cut) => {
    const previous = keys.filter((k) => k < cut - 1e-6).pop() ?? 0;
    return (previous + cut) / 2 + first - containerStart;
  });
}

/** Null when the pieces are what was planned; otherwise what is wrong. Exported for tests. */
export function checkPieces(
  pieces: ReadonlyArray<readonly VideoPacket[]>,
  cuts: readonly number[],
  sourcePackets: number,
): string | null {
  if (pieces.length !== cuts.length + 1)
    return `expected ${cuts.length + 1} pieces, got ${pieces.length}`;
  const total = pieces.reduce((sum, p) => sum + p.length, 0);
  if (total !== sourcePackets) return `pieces hold ${total} packets, the source ${sourcePackets}`;
  if (pieces.some((p) => p.length === 0 || !p[0]!.keyframe || p.some((q) => q.pts === null)))
    return 'a piece does not start on a keyframe';
  const base = minPts(pieces[0]!);
  for (let i = 1; i < pieces.length; i++) {
    const start = minPts(pieces[i]!) - base;
    // A millisecond: the segments' NUT time base is exact, so any larger drift means a wrong cut.
    if (Math.abs(start - cuts[i - 1]!) > 0.001)
      return `piece ${i} starts at ${start.toFixed(6)} s, planned ${cuts[i - 1]!.toFixed(6)} s`;
  }
  return null;
}
