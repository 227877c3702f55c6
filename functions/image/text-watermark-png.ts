import sharp from 'sharp';
import { prepareWatermark } from './watermark.js';
import type { TextWatermark } from './watermark-params.js';

/**
 * Renders a text watermark to a PNG file for video, where ffmpeg overlays it like a logo: the text
 * is laid out here (Pango, the given font file), never by an ffmpeg filter, so no user text is
 * ever part of a filter graph. Rendered for the widest output; ffmpeg only scales it down.
 */
export async function writeTextWatermarkPng(
  spec: TextWatermark,
  maxOutputWidth: number,
  file: string,
): Promise<{ width: number; height: number }> {
  const prepared = await prepareWatermark(spec, maxOutputWidth);
  await sharp(prepared.pixels, {
    raw: { width: prepared.width, height: prepared.height, channels: 4 },
  })
    .png()
    .toFile(file);
  return { width: prepared.width, height: prepared.height };
}
