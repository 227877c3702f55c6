import { z } from 'zod';
import { WATERMARK_POSITIONS } from '../ffmpeg/args/watermark.js';

/** The nine places a watermark can sit: the same names the ffmpeg overlay builder takes. */
export const anchorSchema = z.enum(WATERMARK_POSITIONS);
export type Anchor = z.infer<typeof anchorSchema>;

// Everything is relative to the output so one setting looks the same on every width of the ladder.
const placement = {
  position: anchorSchema.default('bottom-right'),
  /** Gap to the anchored edges, as a fraction of the output width. */
  margin: z.number().min(0).max(0.25).default(0.02),
  /** 0 is invisible, 1 is the watermark's own alpha. */
  opacity: z.number().min(0).max(1).default(0.7),
  /** Watermark width as a fraction of the output width (shrunk further if it would not fit). */
  scale: z.number().min(0.01).max(1).default(0.15),
};

/**
 * A logo from a local file. The caller resolves it (a file shipped in `samples/`, or an object it
 * downloaded from storage); it passes the same content checks as a source image.
 */
export const imageWatermarkSchema = z.strictObject({
  type: z.literal('image'),
  file: z.string().min(1),
  ...placement,
});

/**
 * Text the function renders itself. Control characters are refused (they are not valid XML and
 * would only ever be an attack); everything else is XML-escaped before it reaches librsvg.
 */
export const textWatermarkSchema = z.strictObject({
  type: z.literal('text'),
  text: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\p{Cc}\p{Cs}\uFFFE\uFFFF]*$/u, 'text without control characters')
    .regex(/\S/, 'text with at least one visible character'),
  color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #ffffff')
    .default('#ffffff'),
  /**
   * A local TrueType/OpenType file to render with, so the result does not depend on the host's
   * fonts. Without it the host's DejaVu Sans (or another sans-serif) is used.
   */
  fontFile: z.string().min(1).optional(),
  /**
   * Text height as a fraction of the output height (0.05 is 54 px on 1080 lines). When set it
   * sizes the text instead of `scale` (still shrunk to fit inside the margins).
   */
  fontSize: z.number().min(0.005).max(0.5).optional(),
  ...placement,
});

export const watermarkSchema = z.discriminatedUnion('type', [
  imageWatermarkSchema,
  textWatermarkSchema,
]);

export type Watermark = z.infer<typeof watermarkSchema>;
export type ImageWatermark = z.infer<typeof imageWatermarkSchema>;
export type TextWatermark = z.infer<typeof textWatermarkSchema>;
