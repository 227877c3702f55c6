import { type FileHandle, open } from 'node:fs/promises';
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { MediaflowError } from '../errors.js';
import { PIPELINE_TIMEOUT_SECONDS, toImageError } from './image-errors.js';
import type { ImageLimits } from './params.js';
import { ensureSharpConfigured } from './sharp-settings.js';
import { type AllowedFormat, SNIFF_BYTES, sniffImage } from './sniff.js';

/** What the header says about a source, read before any pixel is decoded. */
export interface SourceInfo {
  /** `avif` and `heif` are told apart by the codec inside the HEIF container. */
  format: AllowedFormat;
  /** Display width and height of one frame, after EXIF orientation. */
  width: number;
  height: number;
  /** EXIF orientation, 1 (none) to 8. */
  orientation: number;
  /** Frames (GIF/WebP animation) or pages (TIFF, HEIF); 1 for a still. */
  frames: number;
  /** A GIF or WebP with more than one frame: the only sources whose animation is kept. */
  animated: boolean;
  hasAlpha: boolean;
}

/** Formats whose animation we can carry over to animated WebP. */
const ANIMATABLE: ReadonlySet<AllowedFormat> = new Set(['gif', 'webp']);

/**
 * The options every decode of an untrusted file uses. `failOn: 'error'` refuses truncated and
 * broken data but lets through the harmless warnings many real cameras produce (a browser shows
 * those files too). `unlimited: false` keeps libvips' own PNG/SVG memory guards.
 * `limitInputPixels` repeats our header check inside libvips, in case a loader's header lies.
 */
export function decodeOptions(pixelLimit: number, animated = false): SharpOptions {
  return {
    failOn: 'error',
    unlimited: false,
    limitInputPixels: pixelLimit,
    limitInputChannels: 5,
    animated,
    sequentialRead: true,
  };
}

/**
 * Checks that a file is an image we accept and within limits, from its first bytes and its header
 * only: allow-listed format by content (never by name), SVG/PDF and other hostile formats refused,
 * pixel, frame and total-pixel limits checked before decoding.
 * `keepAnimation` says whether all frames would be decoded (animated WebP output was asked for).
 * @throws MediaflowError MEDIA_EMPTY, MEDIA_REFUSED, MEDIA_UNSUPPORTED, MEDIA_UNREADABLE,
 * MEDIA_LIMIT_EXCEEDED
 */
export async function inspectImage(
  file: string,
  limits: ImageLimits,
  keepAnimation: boolean,
): Promise<SourceInfo> {
  ensureSharpConfigured();
  const sniffed = sniffImage(await readHead(file));
  switch (sniffed.kind) {
    case 'empty':
      throw new MediaflowError('MEDIA_EMPTY', 'The image file is empty (0 bytes).');
    case 'refused':
      throw new MediaflowError(
        'MEDIA_REFUSED',
        `The file is ${sniffed.format.toUpperCase()}, which is refused: it can reference other ` +
          `files or run a renderer.`,
      );
    case 'unsupported':
      throw new MediaflowError(
        'MEDIA_UNSUPPORTED',
        `The file is ${sniffed.format}, which is not an allowed image format (JPEG, PNG, WebP, ` +
          `AVIF, GIF, TIFF, HEIF).`,
      );
    case 'unknown':
      throw new MediaflowError('MEDIA_UNREADABLE', 'The file is not a recognised image.');
    case 'allowed':
      break;
  }

  let meta: Metadata;
  try {
    // Header only; the pixel limit is ours to check with a clear message, so libvips' is off here.
    meta = await sharp(file, { ...decodeOptions(0), limitInputPixels: false })
      .timeout({ seconds: PIPELINE_TIMEOUT_SECONDS })
      .metadata();
  } catch (error) {
    throw toImageError(error, true);
  }
  const format = resolveFormat(sniffed.format, meta);
  const frames = Math.max(1, meta.pages ?? 1);
  const frameHeight = meta.pageHeight ?? meta.height;
  if (!(meta.width > 0 && frameHeight > 0))
    throw new MediaflowError('MEDIA_UNREADABLE', 'The image header declares no pixels.');

  const framePixels = meta.width * frameHeight;
  if (framePixels > limits.maxPixels) {
    throw new MediaflowError(
      'MEDIA_LIMIT_EXCEEDED',
      `The image is ${meta.width} x ${frameHeight} pixels (${mp(framePixels)}), above the ` +
        `limit of ${mp(limits.maxPixels)}.`,
    );
  }
  if (frames > limits.maxFrames) {
    throw new MediaflowError(
      'MEDIA_LIMIT_EXCEEDED',
      `The image has ${frames} frames, above the limit of ${limits.maxFrames}.`,
    );
  }
  const animated = frames > 1 && ANIMATABLE.has(format);
  if (animated && keepAnimation && framePixels * frames > limits.maxTotalPixels) {
    throw new MediaflowError(
      'MEDIA_LIMIT_EXCEEDED',
      `The animation is ${frames} frames of ${mp(framePixels)} (${mp(framePixels * frames)} in ` +
        `all), above the limit of ${mp(limits.maxTotalPixels)}.`,
    );
  }

  const orientation =
    meta.orientation && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  const swapped = orientation >= 5;
  return {
    format,
    width: swapped ? frameHeight : meta.width,
    height: swapped ? meta.width : frameHeight,
    orientation,
    frames,
    animated,
    hasAlpha: meta.hasAlpha,
  };
}

/** Reads the first bytes; an empty file gives an empty buffer. */
async function readHead(file: string): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new MediaflowError(
      'MEDIA_UNREADABLE',
      `The image file cannot be opened: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** libvips must agree with the sniff; a HEIF container is AVIF (AV1) or HEIC (HEVC). */
function resolveFormat(sniffed: AllowedFormat, meta: Metadata): AllowedFormat {
  const decoder = String(meta.format);
  if (sniffed === 'avif' || sniffed === 'heif') {
    if (decoder !== 'heif')
      throw new MediaflowError(
        'MEDIA_UNREADABLE',
        `The file looks like ${sniffed} but decodes as ${decoder}.`,
      );
    if (meta.compression === 'av1') return 'avif';
    if (!heicDecodable()) {
      throw new MediaflowError(
        'MEDIA_UNSUPPORTED',
        `HEIF images compressed with ${meta.compression ?? 'an unknown codec'} cannot be ` +
          `decoded by this build (only AV1/AVIF).`,
      );
    }
    return 'heif';
  }
  if (decoder !== sniffed)
    throw new MediaflowError(
      'MEDIA_UNREADABLE',
      `The file looks like ${sniffed} but decodes as ${decoder}.`,
    );
  return sniffed;
}

/**
 * sharp's prebuilt libvips decodes AVIF only; a custom libvips with libde265 also lists `.heic`.
 */
function heicDecodable(): boolean {
  return sharp.format.heif.input.fileSuffix?.includes('.heic') ?? false;
}

function mp(pixels: number): string {
  return `${(pixels / 1e6).toFixed(1)} MP`;
}
