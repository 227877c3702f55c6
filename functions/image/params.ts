import { z } from 'zod';
import { MediaflowError } from '../errors.js';
import { describeError } from './validation-message.js';
import { watermarkSchema } from './watermark-params.js';

export const OUTPUT_FORMATS = ['jpeg', 'webp', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * Limits checked from the header before any pixel is decoded. The defaults admit every camera
 * and phone photo we know of while keeping the worst decode of one task to a few hundred MB.
 */
export const imageLimitsSchema = z.strictObject({
  /** Pixels in one frame (width x height). */
  maxPixels: z.number().int().min(1).max(1_000_000_000).default(100_000_000),
  /** Frames or pages the file declares (GIF/WebP animation, TIFF pages, HEIF images). */
  maxFrames: z.number().int().min(1).max(100_000).default(500),
  /**
   * Pixels decoded over all frames kept. Without it a GIF of 500 full-canvas frames within the
   * per-frame limit could still ask for 50 gigapixels; only an animation kept whole can reach it.
   */
  maxTotalPixels: z.number().int().min(1).max(10_000_000_000).default(250_000_000),
});

const DEFAULT_QUALITY = { jpeg: 80, webp: 78, avif: 55 };

/** What one image task makes: a ladder of widths times a set of formats, maybe watermarked. */
export const imageParamsSchema = z.strictObject({
  /**
   * Output widths in pixels; those above the source are replaced by the source width (never
   * upscaled).
   */
  widths: z
    .array(z.number().int().min(16).max(8192))
    .min(1)
    .max(12)
    .default([320, 640, 1280, 1920]),
  formats: z.array(z.enum(OUTPUT_FORMATS)).min(1).max(3).default(['jpeg', 'webp', 'avif']),
  quality: z
    .strictObject({
      jpeg: z.number().int().min(1).max(100).default(DEFAULT_QUALITY.jpeg),
      webp: z.number().int().min(1).max(100).default(DEFAULT_QUALITY.webp),
      avif: z.number().int().min(1).max(100).default(DEFAULT_QUALITY.avif),
    })
    .default(DEFAULT_QUALITY),
  watermark: watermarkSchema.optional(),
  limits: imageLimitsSchema.default({
    maxPixels: 100_000_000,
    maxFrames: 500,
    maxTotalPixels: 250_000_000,
  }),
});

/** Fully resolved image parameters (defaults applied). */
export type ImageParams = z.infer<typeof imageParamsSchema>;
/** What callers may pass: every field optional where a default exists. */
export type ImageParamsInput = z.input<typeof imageParamsSchema>;
export type ImageLimits = z.infer<typeof imageLimitsSchema>;

/**
 * Validates and resolves parameters once, at the function's edge.
 * @throws MediaflowError REQUEST_INVALID with one `Expected ... for ... but received ...` sentence
 * per problem.
 */
export function parseImageParams(input: unknown): ImageParams {
  const result = imageParamsSchema.safeParse(input ?? {}, { reportInput: true });
  if (!result.success) throw new MediaflowError('REQUEST_INVALID', describeError(result.error));
  return result.data;
}
