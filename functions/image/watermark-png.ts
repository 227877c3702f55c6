import sharp from 'sharp';
import { prepareWatermark } from './watermark.js';
import type { Watermark } from './watermark-params.js';

/**
 * A watermark as a PNG file for video, where ffmpeg overlays it. Text is laid out here (Pango,
 * the given font file), never by an ffmpeg filter, so no user text is ever part of a filter graph;
 * a logo (PNG, JPEG or WebP, from a bucket or not) is decoded here with the same checks as any
 * image, so ffmpeg only ever reads a PNG this process wrote. Made for the widest output; ffmpeg
 * only scales it down.
 */
export async function writeWatermarkPng(
  spec: Watermark,
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
