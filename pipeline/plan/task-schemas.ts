import { z } from 'zod';
import type { FrameTiming } from '../../functions/ffmpeg/args/transcode-ladder.js';
import type { ColorInfo } from '../../functions/video/color.js';
import type { Rendition } from '../../functions/video/ladder.js';
import { VIDEO_CODECS } from '../../functions/video/video-codecs.js';
import type {
  AudioStreamInfo,
  MediaInfo,
  VideoStreamInfo,
} from '../../functions/video/media-info.js';
import type { OutputRecord } from './types.js';
import type { PieceEnds, SeamRecord } from '../../functions/video/seam-qc.js';

/**
 * Schemas for the values tasks hand each other through stored params and results. Each is tied
 * to the TypeScript type the media functions use (`satisfies`), so the two cannot drift apart.
 */

const rational = z.object({ num: z.number(), den: z.number() });

const color = z.object({
  primaries: z.string().nullable(),
  transfer: z.string().nullable(),
  matrix: z.string().nullable(),
  range: z.string().nullable(),
  dynamicRange: z.enum(['SDR', 'PQ', 'HLG']),
  bitDepth: z.number(),
  dolbyVision: z.object({ profile: z.number(), compatibility: z.number() }).nullable(),
  peakNits: z.number().nullable(),
}) satisfies z.ZodType<ColorInfo>;

const videoStream = z.object({
  index: z.number().int().nonnegative(),
  codec: z.string(),
  profile: z.string().nullable(),
  width: z.number(),
  height: z.number(),
  displayWidth: z.number(),
  displayHeight: z.number(),
  rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
  sampleAspectRatio: rational,
  frameRate: rational,
  fps: z.number(),
  /** Absent in results stored before it was recorded. */
  frameRateFrom: z.enum(['average', 'base', 'packets']).optional(),
  baseFrameRate: rational.nullable(),
  pixFmt: z.string().nullable(),
  /** Absent in results stored before colour was probed. */
  color: color.optional(),
  startTime: z.number(),
  duration: z.number().nullable(),
  frameCount: z.number().nullable(),
  bitRate: z.number().nullable(),
}) satisfies z.ZodType<VideoStreamInfo>;

const audioStream = z.object({
  index: z.number().int().nonnegative(),
  codec: z.string(),
  language: z.string().nullable().optional(),
  title: z.string().nullable().optional(),
  channels: z.number(),
  sampleRate: z.number(),
  startTime: z.number(),
  duration: z.number().nullable(),
  bitRate: z.number().nullable(),
}) satisfies z.ZodType<AudioStreamInfo>;

/** A probed source as tasks pass it on: MediaInfo without the (large) keyframe list. */
export type ProbedMedia = Omit<MediaInfo, 'keyframeTimes'>;

export const mediaSchema = z.object({
  formatName: z.string(),
  demuxer: z.string(),
  duration: z.number(),
  startTime: z.number(),
  sizeBytes: z.number(),
  bitRate: z.number().nullable(),
  streamCount: z.number(),
  video: videoStream.nullable(),
  audio: audioStream.nullable(),
  audioStreams: z.array(audioStream).optional(),
  subtitleStreams: z
    .array(
      z.object({
        index: z.number().int().nonnegative(),
        codec: z.string(),
        language: z.string().nullable(),
        title: z.string().nullable(),
        text: z.boolean(),
      }),
    )
    .optional(),
}) satisfies z.ZodType<ProbedMedia>;

export const renditionSchema = z.object({
  name: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  maxBitrate: z.number().positive(),
  bufferBits: z.number().positive(),
  codec: z.enum(VIDEO_CODECS).optional(),
}) satisfies z.ZodType<Rendition>;

const frameTiming = z.object({
  rate: rational,
  resample: z.object({ offset: z.number(), frames: z.number().int().positive() }).optional(),
}) satisfies z.ZodType<FrameTiming>;

/** One piece of the split source, as the transcode tasks receive it. */
export const segmentSchema = z.object({
  index: z.number().int().nonnegative(),
  /** The piece's name under the job's scratch prefix, or null when the source was not split. */
  name: z.string().nullable(),
  format: z.string(),
  /** Seconds on the output timeline where the piece starts, and its exact length. */
  start: z.number(),
  duration: z.number(),
  frameCount: z.number(),
  /** The output frame grid (and resample plan) the split chose; absent when the rate is unknown. */
  timing: frameTiming.optional(),
  /** The lead-in to pre-roll on, under the job's scratch prefix (see `seam-preroll.ts`). */
  preroll: z
    .object({
      name: z.string(),
      format: z.string(),
      skipFrames: z.number().int().nonnegative(),
      frames: z.number().int().nonnegative(),
    })
    .optional(),
});

/** A CMAF rendition's track, measured from its fragments. */
export const cmafFactsSchema = z.object({
  /** Folder relative to the master playlist (and the MPD), holding init.mp4 and seg-NNNNN.m4s. */
  folder: z.string(),
  /** RFC 6381 codec string of this track alone. */
  codec: z.string(),
  timescale: z.number().int().positive(),
  /** Each segment's decode time and duration in timescale ticks, in order (seg-00000 first). */
  segments: z.array(z.object({ t: z.number(), d: z.number() })).min(1),
});

/** The audio encoded once, packaged as its own CMAF rendition. */
export const audioRenditionSchema = cmafFactsSchema.extend({
  /** Peak and average segment bitrates, bits per second. */
  bandwidth: z.number().positive(),
  averageBandwidth: z.number().positive(),
  channels: z.number().int().positive(),
  sampleRate: z.number().int().positive(),
  /** From the source stream's tags, when it has them. */
  language: z.string().nullable(),
  label: z.string(),
});

/** One video rendition as a merge measured it, for the master playlist and the MPD. */
export const variantSchema = z.object({
  name: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Peak and average bits per second, measured from the written segments. */
  bandwidth: z.number().positive(),
  averageBandwidth: z.number().positive(),
  codecs: z.string(),
  /** 0 when unknown. */
  frameRate: z.number().nonnegative(),
  /** The media playlist's path relative to the master playlist. */
  uri: z.string(),
  /** CMAF packaging: what the master's audio group, I-frame playlists and the MPD need. */
  cmaf: cmafFactsSchema
    .extend({
      /** The I-frame playlist relative to the master, and its measured bitrates. */
      iframes: z.object({
        uri: z.string(),
        bandwidth: z.number().positive(),
        averageBandwidth: z.number().positive(),
      }),
    })
    .optional(),
});

export const outputSchema = z.object({
  key: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
  contentType: z.string(),
  role: z.string(),
  width: z.number().optional(),
  height: z.number().optional(),
  durationSeconds: z.number().optional(),
  bitrate: z.number().optional(),
  format: z.string().optional(),
}) satisfies z.ZodType<OutputRecord>;

/** Seam QC: SSIM of a piece's first and last frames against the source. */
export const pieceEndsSchema = z.object({
  head: z.number(),
  tail: z.number(),
}) satisfies z.ZodType<PieceEnds>;

/** Seam QC of one join of a chunked rendition (see functions/video/seam-qc.ts). */
export const seamSchema = z.object({
  join: z.number().int().positive(),
  at: z.number(),
  gapFrames: z.number(),
  ssimBefore: z.number().nullable(),
  ssimAfter: z.number().nullable(),
  ok: z.boolean(),
}) satisfies z.ZodType<SeamRecord>;

/**
 * `satisfies` accepts a schema that leaves out an optional field; these fail to compile when a
 * media type gains a field its schema lacks (or the other way round).
 */
type SameKeys<A, B> = [keyof A] extends [keyof B]
  ? [keyof B] extends [keyof A]
    ? true
    : false
  : false;
const sameKeys: [
  SameKeys<z.infer<typeof color>, ColorInfo>,
  SameKeys<z.infer<typeof videoStream>, VideoStreamInfo>,
  SameKeys<z.infer<typeof audioStream>, AudioStreamInfo>,
  SameKeys<z.infer<typeof mediaSchema>, ProbedMedia>,
  SameKeys<z.infer<typeof renditionSchema>, Rendition>,
  SameKeys<z.infer<typeof frameTiming>, FrameTiming>,
  SameKeys<z.infer<typeof outputSchema>, OutputRecord>,
  SameKeys<z.infer<typeof pieceEndsSchema>, PieceEnds>,
  SameKeys<z.infer<typeof seamSchema>, SeamRecord>,
] = [true, true, true, true, true, true, true, true, true];
void sameKeys;

/** A text subtitle stream as a WebVTT rendition (one segment: the whole file). */
export const subtitleRenditionSchema = z.object({
  /** Folder relative to the master playlist, holding `subs.vtt` and `index.m3u8`. */
  folder: z.string(),
  language: z.string().nullable(),
  label: z.string(),
  /** Bits per second of the WebVTT file over the video's length. */
  bandwidth: z.number().nonnegative(),
});

/** A source stream not made into a rendition, and why (listed in the manifest). */
export const skippedStreamSchema = z.object({
  stream: z.number().int().nonnegative(),
  codec: z.string(),
  reason: z.string(),
});
