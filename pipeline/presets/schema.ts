import { z } from 'zod';

import {
  imageWatermarkSchema,
  textWatermarkSchema,
} from '../../functions/image/watermark-params.js';

/**
 * In a preset an image watermark names where the logo comes from: one of the files shipped in
 * `samples/assets/`, or an object in storage. The task fetches it and hands the media function
 * a local file. Placement (anchor, margin, opacity, scale) is the function's own schema.
 */
export const presetImageWatermarkSchema = imageWatermarkSchema.omit({ file: true }).extend({
  source: z.union([
    z.strictObject({
      sample: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+\.(png|webp)$/, 'a PNG or WebP file name in samples/assets/'),
    }),
    z.strictObject({ bucket: z.string().min(3), key: z.string().min(1) }),
  ]),
});

/**
 * A text watermark names the font it is drawn with: the DejaVu Sans shipped in
 * `samples/assets/fonts/` (the default), or a TrueType/OpenType object in storage, so the result
 * never depends on the fonts of whichever host runs the task.
 */
export const presetTextWatermarkSchema = textWatermarkSchema.omit({ fontFile: true }).extend({
  font: z
    .union([
      z.strictObject({
        sample: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+\.(ttf|otf)$/, 'a TTF or OTF file name in samples/assets/fonts/'),
      }),
      z.strictObject({ bucket: z.string().min(3), key: z.string().min(1) }),
    ])
    .default({ sample: 'DejaVuSans.ttf' }),
});

/** Either kind of watermark, told apart by `type`. */
export const watermarkSchema = z.discriminatedUnion('type', [
  presetImageWatermarkSchema,
  presetTextWatermarkSchema,
]);

export const videoPresetSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/),
    kind: z.literal('video'),
    /** Rendition heights (the short side for portrait sources); never upscaled. */
    ladder: z
      .array(z.number().int().min(64).max(4320))
      .min(1)
      .max(8)
      .default([1080, 720, 480, 360]),
    hlsSegmentSeconds: z.number().int().min(1).max(20).default(4),
    x264Preset: z
      .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'])
      .default('veryfast'),
    crf: z.number().int().min(10).max(40).default(23),
    audioBitrateKbps: z.number().int().min(32).max(320).default(128),
    mp4: z.boolean().default(true),
    hls: z.boolean().default(true),
    /**
     * `cmaf`: fMP4 segments written once, served by an HLS master (audio as its own rendition
     * group, I-frame playlists) and a DASH MPD. `ts`: MPEG-TS HLS with muxed audio, for old
     * set-top boxes.
     */
    packaging: z.enum(['cmaf', 'ts']).default('cmaf'),
    /** Write the DASH MPD beside the HLS master (CMAF packaging only). */
    dash: z.boolean().default(true),
    /**
     * One rendition set per codec, on the same segment boundaries. H.264 is the fallback every
     * player decodes, so it must be listed.
     */
    codecs: z
      .array(z.enum(['h264', 'hevc', 'av1']))
      .min(1)
      .max(3)
      .default(['h264'])
      .refine((list) => list.includes('h264'), 'codecs must include h264, the fallback')
      .refine((list) => new Set(list).size === list.length, 'codecs must not repeat'),
    /** x265 preset and CRF for the `hevc` set (x265 takes x264's preset names). */
    hevcPreset: z
      .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'])
      .default('veryfast'),
    hevcCrf: z.number().int().min(10).max(45).default(28),
    /**
     * libaom's speed (`cpu-used`, 0 slowest .. 8 fastest, realtime usage) and CRF for the `av1`
     * set; why libaom and not SVT-AV1 is in functions/video/video-codecs.ts.
     */
    av1Speed: z.number().int().min(0).max(8).default(8),
    av1Crf: z.number().int().min(10).max(63).default(35),
    /**
     * HDR sources always get an SDR (BT.709, tone-mapped) ladder. `keepHdr` adds an HEVC Main10 set
     * with the source's HDR10 or HLG tags beside it (`VIDEO-RANGE=PQ`/`HLG`).
     */
    keepHdr: z.boolean().default(false),
    thumbnails: z
      .object({
        spriteIntervalSeconds: z.number().min(1).max(600).default(5),
        spriteColumns: z.number().int().min(1).max(20).default(5),
        thumbWidth: z.number().int().min(32).max(640).default(160),
      })
      .default({ spriteIntervalSeconds: 5, spriteColumns: 5, thumbWidth: 160 }),
    watermark: watermarkSchema.optional(),
  })
  .refine((p) => p.packaging === 'cmaf' || p.codecs.every((c) => c === 'h264'), {
    message: 'codecs hevc and av1 need packaging cmaf (MPEG-TS HLS carries H.264 only)',
    path: ['codecs'],
  });

export const imagePresetSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/),
  kind: z.literal('image'),
  widths: z
    .array(z.number().int().min(16).max(8192))
    .min(1)
    .max(12)
    .default([320, 640, 1280, 1920]),
  formats: z
    .array(z.enum(['jpeg', 'webp', 'avif']))
    .min(1)
    .default(['jpeg', 'webp', 'avif']),
  quality: z
    .object({
      jpeg: z.number().int().min(1).max(100).default(80),
      webp: z.number().int().min(1).max(100).default(78),
      avif: z.number().int().min(1).max(100).default(55),
    })
    .default({ jpeg: 80, webp: 78, avif: 55 }),
  watermark: watermarkSchema.optional(),
});

export const audioPresetSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/),
  kind: z.literal('audio'),
  formats: z
    .array(z.enum(['aac', 'mp3', 'opus']))
    .min(1)
    .default(['aac', 'mp3', 'opus']),
  /** EBU R128 integrated loudness target; unset means the configured default. */
  loudnessLufs: z.number().min(-70).max(-5).optional(),
  bitrateKbps: z.number().int().min(32).max(320).default(128),
});

export const presetSchema = z.discriminatedUnion('kind', [
  videoPresetSchema,
  imagePresetSchema,
  audioPresetSchema,
]);

export type Preset = z.infer<typeof presetSchema>;
export type VideoPreset = z.infer<typeof videoPresetSchema>;
export type ImagePreset = z.infer<typeof imagePresetSchema>;
export type AudioPreset = z.infer<typeof audioPresetSchema>;
export type PresetImageWatermark = z.infer<typeof presetImageWatermarkSchema>;
export type PresetTextWatermark = z.infer<typeof presetTextWatermarkSchema>;
