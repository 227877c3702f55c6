import { stat } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type CreateRaw, type OutputInfo, type Sharp } from 'sharp';
import { applyEncoder, outputName } from './encoders.js';
import { PIPELINE_TIMEOUT_SECONDS, throwIfAborted, toImageError } from './image-errors.js';
import { decodeOptions } from './inspect.js';
import type { ImageParams, OutputFormat } from './params.js';
import { overlayInput, type PreparedWatermark, watermarkOverlay } from './watermark.js';

/** One file the image function wrote. */
export interface Derivative {
  /** Absolute path under the scratch directory; the name is generated (`w640.webp`). */
  file: string;
  width: number;
  height: number;
  format: OutputFormat;
  bytes: number;
  /** 1 for a still; the frame count for an animated WebP. */
  frames: number;
}

/** What both the still and the animated paths need; built by process-image.ts. */
export interface DerivativeRequest {
  file: string;
  /** Ascending, already planned against the source width (see ladder.ts). */
  widths: number[];
  quality: ImageParams['quality'];
  /** The pixel limit, repeated inside libvips (all frames, for animations). */
  pixelLimit: number;
  watermark: PreparedWatermark | undefined;
  outDir: string;
  signal: AbortSignal;
  onOutput: (derivative: Derivative) => void;
}

export interface StillRequest extends DerivativeRequest {
  formats: OutputFormat[];
}

export type Raw = { data: Buffer; info: OutputInfo };

/**
 * Makes every still derivative while decoding the source once.
 *
 * The source is decoded, auto-oriented (EXIF), converted to sRGB through its ICC profile and
 * shrunk to the widest output in one pass (JPEG and WebP shrink while decoding, which is most of
 * the speed), into 8-bit pixels in memory. Each width is resized from those pixels, watermarked,
 * and fanned out with `clone()` to the encoders; all encodes run in parallel. Outputs carry an
 * sRGB ICC profile and no other metadata: no EXIF, GPS, XMP or IPTC.
 * For an animated source this is the first frame.
 */
export async function makeStillDerivatives(request: StillRequest): Promise<Derivative[]> {
  const widest = request.widths[request.widths.length - 1]!;
  const base = await decodeBase(request.file, widest, request.pixelLimit);
  // Every level first (resizes from memory take milliseconds), then every encode at once, widest
  // first: the 1920 px AVIF is the longest single encode, and starting it first keeps all cores
  // busy to the end instead of idling while one width's slowest encoder finishes. libuv's thread
  // pool bounds how many run together.
  const levels: { width: number; image: Sharp }[] = [];
  for (const width of [...request.widths].reverse()) {
    throwIfAborted(request.signal);
    const level = width === base.info.width ? base : await resizeRaw(base, width);
    const overlay = request.watermark
      ? await watermarkOverlay(request.watermark, level.info.width, level.info.height)
      : undefined;
    const image = sharp(level.data, { raw: rawOf(level.info) }).timeout({
      seconds: PIPELINE_TIMEOUT_SECONDS,
    });
    if (overlay) image.composite([overlayInput(overlay)]);
    levels.push({ width, image });
  }
  throwIfAborted(request.signal);
  const encodes = levels.flatMap(({ width, image }) =>
    request.formats.map((format) => encode(image.clone(), width, format, request)),
  );
  // Settle all before failing, so nothing is still writing when the caller removes the folder.
  const settled = await Promise.allSettled(encodes);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  throwIfAborted(request.signal);
  return settled.map((r) => (r as PromiseFulfilledResult<Derivative>).value);
}

async function encode(
  image: Sharp,
  width: number,
  format: OutputFormat,
  request: StillRequest,
): Promise<Derivative> {
  const file = path.join(request.outDir, outputName(width, format));
  try {
    const info = await applyEncoder(image.withIccProfile('srgb'), format, request.quality).toFile(
      file,
    );
    const derivative: Derivative = {
      file,
      width: info.width,
      height: info.height,
      format,
      bytes: (await stat(file)).size,
      frames: 1,
    };
    request.onOutput(derivative);
    return derivative;
  } catch (error) {
    throw toImageError(error, false);
  }
}

/**
 * Decodes, orients, shrinks to `width` and converts to sRGB raw pixels (every frame, for
 * animations).
 */
export async function decodeBase(
  file: string,
  width: number,
  pixelLimit: number,
  animated = false,
): Promise<Raw> {
  try {
    return await sharp(file, decodeOptions(pixelLimit, animated))
      .timeout({ seconds: PIPELINE_TIMEOUT_SECONDS })
      .autoOrient()
      .resize({ width, withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw toImageError(error, true);
  }
}

async function resizeRaw(base: Raw, width: number): Promise<Raw> {
  try {
    return await sharp(base.data, { raw: rawOf(base.info) })
      .resize({ width })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw toImageError(error, false);
  }
}

function rawOf(info: OutputInfo): CreateRaw {
  return { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 };
}
