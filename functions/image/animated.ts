import { stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { decodeBase, type Derivative, type DerivativeRequest } from './derivatives.js';
import { applyEncoder, outputName } from './encoders.js';
import { throwIfAborted, toImageError } from './image-errors.js';
import { overlayInput, watermarkOverlay } from './watermark.js';

/** What {@link makeAnimatedWebp} needs: one animated WebP per width. */
export type AnimatedRequest = DerivativeRequest;

/**
 * Animated sources (GIF or WebP with more than one frame) keep their animation in the WebP
 * outputs only, with the source's frame delays and loop count; JPEG and AVIF outputs are the first
 * frame (see derivatives.ts). WebP is the one output format that animates in every browser and
 * that sharp encodes; JPEG cannot animate and sharp does not write AVIF sequences. A first-frame
 * JPEG/AVIF doubles as a poster. The frame and total-pixel limits were checked before this runs.
 *
 * Each width decodes the animation again (with shrink-on-load where the codec allows) instead of
 * holding every full-size frame in memory at once: animations are small, and this keeps a task's
 * peak memory at about one resized animation.
 *
 * Writes one animated WebP per width.
 */
export async function makeAnimatedWebp(request: AnimatedRequest): Promise<Derivative[]> {
  const results: Derivative[] = [];
  // Timing survives the trip through raw pixels only if passed on explicitly.
  const { delay, loop } = await readTiming(request.file);
  for (const width of [...request.widths].reverse()) {
    throwIfAborted(request.signal);
    const file = path.join(request.outDir, outputName(width, 'webp'));
    try {
      const frames = await decodeBase(request.file, width, request.pixelLimit, true);
      const { width: outWidth, pageHeight = frames.info.height, pages = 1, channels } = frames.info;
      const image = sharp(frames.data, {
        raw: {
          width: outWidth,
          height: frames.info.height,
          channels: channels as 3 | 4,
          pageHeight,
        },
      });
      const overlay = request.watermark
        ? await watermarkOverlay(request.watermark, outWidth, pageHeight)
        : undefined;
      if (overlay) {
        // composite() draws once on the whole strip of frames; a frame-sized tile repeats it on
        // each frame.
        const tile = await sharp({
          create: {
            width: outWidth,
            height: pageHeight,
            channels: 4,
            background: { r: 0, g: 0, b: 0, alpha: 0 },
          },
        })
          .composite([overlayInput(overlay)])
          .png({ compressionLevel: 1 })
          .toBuffer();
        image.composite([{ input: tile, tile: true, gravity: 'northwest' }]);
      }
      const info = await applyEncoder(image.withIccProfile('srgb'), 'webp', request.quality, {
        delay,
        loop,
      }).toFile(file);
      const derivative: Derivative = {
        file,
        width: info.width,
        height: pageHeight,
        format: 'webp',
        bytes: (await stat(file)).size,
        frames: pages,
      };
      request.onOutput(derivative);
      results.push(derivative);
    } catch (error) {
      throw toImageError(error, true);
    }
  }
  return results;
}

async function readTiming(
  file: string,
): Promise<{ delay: number[] | undefined; loop: number | undefined }> {
  try {
    // Header only; the limits were checked by inspectImage.
    const meta = await sharp(file, {
      animated: true,
      failOn: 'error',
      limitInputPixels: false,
    }).metadata();
    return { delay: meta.delay, loop: meta.loop };
  } catch (error) {
    throw toImageError(error, true);
  }
}
