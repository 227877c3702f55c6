import fs from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { MediaflowError } from '../errors.js';
import { transcodeLadderArgs, type EncoderSettings } from '../ffmpeg/args/transcode-ladder.js';
import { validateWatermark, type WatermarkSpec } from '../ffmpeg/args/watermark.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import type { ColorInfo } from './color.js';
import type { Rendition } from './ladder.js';
import type { Rotation } from './media-info.js';
import { scanVideoPackets } from './packets.js';
import { prerollPieceFile, type Preroll } from './seam-preroll.js';
import { measurePieceEnds, type PieceEnds } from './seam-qc.js';
import type { VideoSegment } from './split.js';

export interface TranscodeOptions {
  tools: MediaTools;
  renditions: readonly Rendition[];
  /**
   * From the probe: turns split pieces upright (whole-source segments are autorotated by ffmpeg).
   */
  rotation: Rotation;
  /** The source's average frame rate (for the GOP length and keyframe rounding). */
  fps: number;
  /** HLS segment length; keyframes are forced at every multiple of it on the output timeline. */
  hlsSegmentSeconds: number;
  encoder?: Partial<Pick<EncoderSettings, 'preset' | 'crf' | 'threads' | 'hevc' | 'av1'>>;
  /**
   * Measure the SSIM of the top rung's first and last frames against the piece (seam QC; pieces of
   * a split source only: a whole source has no joins). The top rung only: its decode is the cost
   * (about 3% of the encode each for the source and the output, measured on the 1080p ladder),
   * and a cold start shows on every rung alike, most on the one held at its cap.
   */
  measureEnds?: boolean;
  /** x264 threads for each rendition, in the order of `renditions` (overrides encoder.threads). */
  threadsPerRendition?: readonly number[];
  watermark?: WatermarkSpec;
  /** The source's colour from the probe; HDR is tone-mapped to SDR BT.709. */
  color?: ColorInfo | undefined;
}

export interface TranscodedSegment {
  index: number;
  start: number;
  duration: number;
  /** One MP4 (video only) per rendition, in the order of `renditions`. */
  outputs: Array<{
    rendition: string;
    width: number;
    height: number;
    file: string;
    bytes: number;
    /** SSIM of its first and last frames against the source (when `measureEnds`). */
    ends?: PieceEnds;
  }>;
  wallMs: number;
}

export const DEFAULT_ENCODER: Readonly<Pick<EncoderSettings, 'preset' | 'crf'>> = {
  preset: 'veryfast',
  crf: 23,
};

/**
 * HLS boundaries inside a segment, relative to its start: multiples of `hls` on the output timeline
 * in (start, start + duration). The segment's own first frame is a keyframe anyway. Pure.
 */
export function keyframeTimesInSegment(start: number, duration: number, hls: number): number[] {
  if (!(hls > 0))
    throw new RangeError(`Expected a positive number for hlsSegmentSeconds but received ${hls}`);
  const times: number[] = [];
  const eps = 1e-6;
  for (let k = Math.floor(start / hls + eps) + 1; k * hls < start + duration - eps; k++) {
    const t = k * hls - start;
    if (t > eps) times.push(t);
  }
  return times;
}

/**
 * Encodes one segment into every rendition in one ffmpeg process: the segment is decoded once and
 * the `split` filter feeds one scaler and x264 per rendition. Every segment uses the same settings
 * (capped CRF, closed GOPs, no scene-cut keyframes, keyframes forced at the HLS boundaries), so
 * the pieces concatenate into one stream and HLS segments line up across renditions.
 */
export async function transcodeSegment(
  segment: VideoSegment,
  options: TranscodeOptions,
  ctx: FunctionContext,
): Promise<TranscodedSegment> {
  if (options.renditions.length === 0)
    throw new RangeError('Expected at least one rendition but received none');
  if (options.watermark) validateWatermark(options.watermark);
  const encoder = { ...DEFAULT_ENCODER, ...options.encoder };
  const gopFrames = Math.max(
    1,
    Math.round((options.fps > 0 ? options.fps : 30) * options.hlsSegmentSeconds),
  );
  const dir = path.join(ctx.scratchDir, `encoded-${String(segment.index).padStart(5, '0')}`);
  await fs.mkdir(dir, { recursive: true });
  const outputs = options.renditions.map((r, i) => ({
    ...r,
    file: path.join(dir, `${r.name}.mp4`),
    threads: options.threadsPerRendition?.[i],
  }));

  // A pre-roll needs the exact frame grid; a resampled (variable-rate) piece goes without.
  const preroll =
    segment.preroll && segment.timing && !segment.timing.resample ? segment.preroll : undefined;
  let wallMs = await encodeLadder(segment, options, ctx, encoder, gopFrames, outputs, preroll);
  if (preroll && !(await piecesHaveFrames(outputs, segment.frameCount, options.tools, ctx))) {
    // Seam QC: a pre-roll cut off by a frame would shift the join. Encode this piece cold instead.
    ctx.log.warn({ segment: segment.index }, 'pre-roll cut missed the piece start; re-encoding');
    wallMs += await encodeLadder(segment, options, ctx, encoder, gopFrames, outputs, undefined);
  }

  const sized = await Promise.all(
    outputs.map(async (o) => {
      const { size } = await fs.stat(o.file).catch(() => ({ size: 0 }));
      if (size === 0)
        throw new MediaflowError(
          'FFMPEG_FAILED',
          `ffmpeg wrote no ${o.name} output for segment ${segment.index}.`,
        );
      return { rendition: o.name, width: o.width, height: o.height, file: o.file, bytes: size };
    }),
  );
  const ends = options.measureEnds
    ? await measurePieceEnds(
        {
          file: segment.file,
          format: segment.format,
          rotate: segment.format === 'nut',
          rotation: options.rotation,
        },
        segment.timing,
        segment.frameCount,
        outputs.slice(0, 1),
        options.tools,
        ctx,
      ).catch((error: unknown) => {
        ctx.log.warn({ segment: segment.index, error: String(error) }, 'seam QC not measured');
        return undefined;
      })
    : undefined;
  ctx.onProgress(1);
  return {
    index: segment.index,
    start: segment.start,
    duration: segment.duration,
    // An end that could not be measured (NaN) is left out rather than recorded as a number.
    outputs: sized.map((o, i) => {
      const e = ends?.[i];
      return e && Number.isFinite(e.head) && Number.isFinite(e.tail) ? { ...o, ends: e } : o;
    }),
    wallMs,
  };
}

/** One ffmpeg run over the piece (after its pre-roll, when given); returns its wall time. */
async function encodeLadder(
  segment: VideoSegment,
  options: TranscodeOptions,
  ctx: FunctionContext,
  encoder: Pick<EncoderSettings, 'preset' | 'crf' | 'threads' | 'hevc' | 'av1'>,
  gopFrames: number,
  outputs: ReadonlyArray<Rendition & { file: string; threads: number | undefined }>,
  preroll: Preroll | undefined,
): Promise<number> {
  const pattern = (file: string) => file.replace(/\.mp4$/, '-%d.mp4');
  const args = transcodeLadderArgs(
    {
      input: { file: segment.file, format: segment.format },
      // NUT (our pieces) cannot carry a display matrix: turn those explicitly. Any other format is
      // the source itself, where ffmpeg's autorotate must do it (see TranscodeLadderSpec.rotate).
      rotate: segment.format === 'nut' ? 'explicit' : 'auto',
      rotation: options.rotation,
      outputs: preroll ? outputs.map((o) => ({ ...o, file: pattern(o.file) })) : outputs,
      forceKeyframesAt: keyframeTimesInSegment(
        segment.start,
        segment.duration,
        options.hlsSegmentSeconds,
      ),
      encoder: { ...encoder, gopFrames },
      watermark: options.watermark,
      timing: segment.timing,
      color: options.color,
      preroll,
      progress: true,
    },
    options.fps,
  );
  const { wallMs } = await runFfmpeg(options.tools, args, ctx, {
    label: `transcode segment ${segment.index}`,
    progressSeconds: segment.duration,
  });
  if (preroll)
    await Promise.all(
      outputs.map(async (o) => {
        await fs.rename(prerollPieceFile(pattern(o.file)), o.file).catch(() => {});
        await fs.rm(pattern(o.file).replace('%d', '0'), { force: true });
      }),
    );
  return wallMs;
}

/** True when every output holds exactly `frames` video packets. */
async function piecesHaveFrames(
  outputs: ReadonlyArray<{ file: string }>,
  frames: number,
  tools: MediaTools,
  ctx: FunctionContext,
): Promise<boolean> {
  for (const o of outputs) {
    const packets = await scanVideoPackets(o.file, 'mp4', tools, ctx).catch(() => []);
    if (packets.length !== frames || !packets[0]?.keyframe) return false;
  }
  return true;
}
