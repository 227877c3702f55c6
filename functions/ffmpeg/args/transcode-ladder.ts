import {
  ffmpegGlobalArgs,
  fileUrl,
  inputArgs,
  progressArgs,
  seconds,
  type InputSpec,
} from './common.js';
import {
  dropPrerollOutput,
  PREROLL_VBV_INIT,
  prerollChain,
  prerollSeconds,
  type Preroll,
} from '../../video/seam-preroll.js';
import { bt709TagArgs, matrixConversion, toneMapFilters, type ColorSpec } from './color.js';
import type { VideoCodec } from '../../video/video-codecs.js';
import { rotationFilters } from './rotation.js';
import { type CodecSettings, videoEncoderArgs } from './video-encoders.js';
import { watermarkDemuxer, watermarkGraph, type WatermarkSpec } from './watermark.js';

/**
 * x264 settings shared by every segment and rendition, so segments join into one consistent stream.
 */
export interface EncoderSettings {
  /** x264 preset. */
  preset:
    | 'ultrafast'
    | 'superfast'
    | 'veryfast'
    | 'faster'
    | 'fast'
    | 'medium'
    | 'slow'
    | 'slower'
    | 'veryslow';
  /** Constant rate factor; capped per rendition by its maxrate/bufsize. */
  crf: number;
  /** Frames between keyframes when no boundary forces one (usually the HLS segment length). */
  gopFrames: number;
  /**
   * x264 threads per rendition; unset lets x264 choose (1.5 per core). When tasks already run side
   * by side, one thread per encoder avoids frame-threading overhead: measured 9% faster for two
   * 4-rendition 1080p segments at once on 2 cores.
   */
  threads?: number | undefined;
  /** x265's preset and CRF for the HEVC set. */
  hevc?: CodecSettings['hevc'];
  /** libaom's speed and CRF for the AV1 set. */
  av1?: CodecSettings['av1'];
}

export interface LadderOutput {
  width: number;
  height: number;
  maxBitrate: number;
  bufferBits: number;
  file: string;
  /** Encoder threads for this rendition; overrides `EncoderSettings.threads`. */
  threads?: number | undefined;
  /** The set this output belongs to; H.264 when absent. */
  codec?: VideoCodec | undefined;
}

/**
 * The output frame grid of a segment, decided by the split from the source's packet times.
 * `rate` becomes the encoder time base (1/rate): frames keep their own timestamps (vsync
 * passthrough), rounded onto that grid. Without it the encoder takes ffmpeg's own guess of the
 * input's rate, which for a split piece can differ from the source's (H.263 in NUT is guessed at
 * 30000/1001 where the source is 15 fps, stretching every timestamp by 0.1%).
 * `resample` is set for variable-frame-rate sources, where two frames would round into one slot
 * of the grid (the encoder and muxer then see equal timestamps): the piece is resampled to
 * constant rate with the `fps` filter on the source's global grid, so pieces still join exactly.
 */
export interface FrameTiming {
  rate: { num: number; den: number };
  resample?: {
    /**
     * Seconds from the grid slot this piece starts at to its first source frame (within half a
     * slot).
     */
    offset: number;
    /** Exact number of output frames (grid slots) of this piece. */
    frames: number;
  };
}

export interface TranscodeLadderSpec {
  input: InputSpec;
  /**
   * `explicit`: decode with -noautorotate and turn the picture with filters (NUT pieces carry no
   * display matrix). `auto`: the input is the source itself, so let ffmpeg autorotate: with
   * -noautorotate this ffmpeg copies the source's display matrix onto the upright output (and
   * `-metadata:s:v rotate=0` does not override it), so players would turn it a second time.
   */
  rotate: 'explicit' | 'auto';
  rotation: 0 | 90 | 180 | 270;
  outputs: readonly LadderOutput[];
  /** Seconds from the start of this input where a keyframe must be (HLS boundaries). */
  forceKeyframesAt: readonly number[];
  encoder: EncoderSettings;
  watermark?: WatermarkSpec | undefined;
  timing?: FrameTiming | undefined;
  /** The source's colour, from the probe: HDR is tone-mapped to SDR BT.709 before the split. */
  color?: ColorSpec | undefined;
  /** Adds `-progress pipe:1`. */
  progress?: boolean;
  /**
   * Frames of the previous piece to encode first and drop (see `seam-preroll.ts`); needs
   * `timing` without resampling. Each output is then written by the segment muxer as two files,
   * `file` with `%d`: 0 the pre-roll, 1 the piece.
   */
  preroll?: Preroll | undefined;
}

/**
 * The filter graph: decode once, turn upright, start at t=0, split, then per branch scale with an
 * explicit kernel (this ffmpeg's filter_complex default is softer than -vf's), square pixels and
 * yuv420p, and optionally overlay the watermark.
 */
export function ladderFilterGraph(
  spec: Pick<TranscodeLadderSpec, 'rotation' | 'outputs' | 'watermark'> & {
    rotate?: 'explicit' | 'auto';
    timing?: FrameTiming | undefined;
    preroll?: Preroll | undefined;
    color?: ColorSpec | undefined;
  },
  videoInput = '0:v:0',
  imageInput = '1:v:0',
  prerollInput = spec.watermark ? '2:v:0' : '1:v:0',
): string {
  const count = spec.outputs.length;
  const turn = [
    ...(spec.rotate === 'auto' ? [] : rotationFilters(spec.rotation)),
    ...toneMapFilters(spec.color),
  ];
  const matrix = matrixConversion(spec.color);
  const branches = spec.outputs.map((_, i) => `[b${i}]`).join('');
  // Never empty: the timing chain, or the concat, comes first.
  const fanOut = (filters: string[]) =>
    count > 1
      ? `${[...filters, `split=${count}`].join(',')}${branches}`
      : `${filters.join(',')}[b0]`;
  const chains: string[] = [];
  if (spec.preroll && spec.timing) {
    // The pre-roll, then the piece on the same grid, as one stream for the encoders.
    chains.push(
      `[${prerollInput}]${prerollChain(spec.preroll, spec.timing.rate)}[pre]`,
      `[${videoInput}]${timingFilters(spec.timing).join(',')}[cur]`,
      `[pre][cur]${fanOut(['concat=n=2:v=1:a=0', ...turn])}`,
    );
  } else {
    chains.push(`[${videoInput}]${fanOut([...timingFilters(spec.timing), ...turn])}`);
  }
  const marked = spec.watermark !== undefined;
  spec.outputs.forEach((o, i) => {
    const label = marked ? `s${i}` : `v${i}`;
    chains.push(
      `[b${i}]scale=${o.width}:${o.height}:flags=bicubic${matrix},` +
        `setsar=1,format=yuv420p[${label}]`,
    );
  });
  if (spec.watermark) {
    chains.push(
      ...watermarkGraph(
        spec.watermark,
        imageInput,
        spec.outputs.map((o, i) => ({ width: o.width, in: `s${i}`, out: `v${i}` })),
      ),
    );
  }
  return chains.join(';');
}

/**
 * Start the piece at t=0; when resampling, first shift it so that t=0 is its first grid slot, take
 * one frame per slot (the latest frame at or before it, as `fps` does for the whole file), and cut
 * to exactly `frames`. This ffmpeg ends the `fps` filter at the last frame's own time, so that
 * frame would never fill its slot (a frame lost at every join, as in a plain `-vf fps` run):
 * copies of it are added first, past the piece's end, and after `fps` too in case the input's
 * frame rate is unknown to `tpad`. `trim` ends the graph, so the copies cost nothing.
 */
export function timingFilters(timing: FrameTiming | undefined): string[] {
  const resample = timing?.resample;
  if (!timing || !resample) return ['setpts=PTS-STARTPTS'];
  if (!(Number.isInteger(resample.frames) && resample.frames > 0))
    throw new RangeError(`Expected a positive integer for frames but received ${resample.frames}`);
  const { num, den } = timing.rate;
  return [
    `setpts=PTS-STARTPTS+(${resample.offset.toFixed(6)})/TB`,
    `tpad=stop_mode=clone:stop_duration=${seconds(((resample.frames + 1) * den) / num)}`,
    `fps=fps=${num}/${den}:start_time=0`,
    `tpad=stop_mode=clone:stop=${resample.frames}`,
    `trim=end_frame=${resample.frames}`,
  ];
}

/**
 * Keyframe times for `-force_key_frames`, nudged a quarter frame early so rounding never pushes one
 * a frame late.
 */
export function forceKeyframeList(times: readonly number[], fps: number): string {
  const nudge = fps > 0 ? Math.min(0.001, 0.25 / fps) : 0.001;
  return times.map((t) => seconds(Math.max(0, t - nudge))).join(',');
}

/** One segment in, every rendition out, in one process. */
export function transcodeLadderArgs(spec: TranscodeLadderSpec, fps: number): string[] {
  // -progress is global and must precede the outputs (trailing options are ignored).
  const args = [
    ...ffmpegGlobalArgs(),
    ...(spec.progress ? progressArgs() : []),
    ...inputArgs({
      ...spec.input,
      options: [
        ...(spec.rotate === 'explicit' ? ['-noautorotate'] : []),
        ...(spec.input.options ?? []),
      ],
    }),
  ];
  if (spec.watermark)
    args.push(
      ...inputArgs({
        file: spec.watermark.imageFile,
        format: watermarkDemuxer(spec.watermark.imageFile),
      }),
    );
  const preroll = spec.preroll && spec.timing && !spec.timing.resample ? spec.preroll : undefined;
  if (preroll)
    args.push(
      ...inputArgs({
        file: preroll.file,
        format: preroll.format,
        options: spec.rotate === 'explicit' ? ['-noautorotate'] : [],
      }),
    );
  args.push('-filter_complex', ladderFilterGraph({ ...spec, preroll }));
  // With a pre-roll the piece starts `lead` seconds in, on a forced keyframe.
  const lead = preroll && spec.timing ? prerollSeconds(preroll, spec.timing.rate) : 0;
  const forced = preroll
    ? [lead, ...spec.forceKeyframesAt.map((t) => t + lead)]
    : spec.forceKeyframesAt;
  const keyframes = forced.length ? forceKeyframeList(forced, fps) : undefined;
  spec.outputs.forEach((o, i) => {
    args.push(
      '-map',
      `[v${i}]`,
      '-an',
      '-sn',
      '-dn',
      '-map_metadata',
      '-1',
      ...videoEncoderArgs(
        o.codec ?? 'h264',
        {
          x264Preset: spec.encoder.preset,
          crf: spec.encoder.crf,
          hevc: spec.encoder.hevc,
          av1: spec.encoder.av1,
        },
        { ...o, threads: o.threads ?? spec.encoder.threads },
        spec.encoder.gopFrames,
        preroll ? PREROLL_VBV_INIT : undefined,
      ),
      // Keep every decoded frame with its own timestamp: no duplicates or drops at the joins. (The
      // encoder time base is 1/rate of the frame grid: this x264 wrapper derives the frame rate,
      // and so the level, from it; a finer one such as the source's 1/90000 gives level 6.2.)
      '-vsync',
      'passthrough',
      // Every rendition is SDR BT.709 (HDR sources are tone-mapped): say so in the bitstream.
      ...bt709TagArgs(),
    );
    if (keyframes) args.push('-force_key_frames', keyframes);
    if (spec.timing) args.push('-enc_time_base', `${spec.timing.rate.den}:${spec.timing.rate.num}`);
    if (preroll && spec.timing) {
      // Half a frame before the piece's first frame: the cut lands on its forced keyframe.
      const half = (0.5 * spec.timing.rate.den) / spec.timing.rate.num;
      args.push(...dropPrerollOutput(lead - half, fileUrl(o.file)));
    } else args.push('-f', 'mp4', fileUrl(o.file));
  });
  return args;
}
