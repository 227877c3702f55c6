import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { makeAnimatedWebp } from './animated.js';
import { type Derivative, makeStillDerivatives } from './derivatives.js';
import { throwIfAborted } from './image-errors.js';
import { inspectImage } from './inspect.js';
import { planWidths } from './ladder.js';
import { type ImageParamsInput, OUTPUT_FORMATS, parseImageParams } from './params.js';
import { ensureSharpConfigured } from './sharp-settings.js';
import type { AllowedFormat } from './sniff.js';
import { prepareWatermark } from './watermark.js';

/** One derivative the image function wrote, under `ctx.scratchDir`. */
export type ImageOutput = Derivative;

/** The source as its header describes it (display dimensions, after EXIF orientation). */
export interface ImageSource {
  format: AllowedFormat;
  width: number;
  height: number;
  orientation: number;
  frames: number;
}

export interface ImageResult {
  /** Widths ascending; within a width, JPEG, WebP, AVIF. */
  outputs: ImageOutput[];
  source: ImageSource;
}

/**
 * The image function: one local source in, web-ready derivatives out (a ladder of widths times
 * JPEG/WebP/AVIF), auto-oriented, sRGB, metadata stripped, optionally watermarked.
 *
 * The source is vetted from its header first (format by content, SVG and untrusted loaders
 * refused, pixel/frame limits) and only then decoded, once. Widths above the source are replaced
 * by the source width (see ladder.ts). Animated GIF/WebP keep their animation in WebP outputs
 * only; JPEG/AVIF get the first frame (see animated.ts).
 *
 * Outputs are written to a fresh folder under `ctx.scratchDir` with generated names
 * (`w640.webp`), never names from the input. On failure that folder is removed.
 * `params` may be raw JSON; it is validated here (REQUEST_INVALID with the project's wording).
 * @throws MediaflowError with a permanent code for bad input (MEDIA_*), CANCELLED, REQUEST_INVALID.
 */
export async function processImage(
  inputFile: string,
  params: ImageParamsInput,
  ctx: FunctionContext,
): Promise<ImageResult> {
  ensureSharpConfigured();
  const resolved = parseImageParams(params);
  throwIfAborted(ctx.signal);
  const formats = OUTPUT_FORMATS.filter((format) => resolved.formats.includes(format));
  const wantsAnimation = formats.includes('webp');
  const source = await inspectImage(inputFile, resolved.limits, wantsAnimation);
  const widths = planWidths(resolved.widths, source.width);
  const animateWebp = source.animated && wantsAnimation;
  ctx.log.debug({ source, widths, formats, animateWebp }, 'image: planned derivatives');

  throwIfAborted(ctx.signal);
  const watermark = resolved.watermark
    ? await prepareWatermark(resolved.watermark, widths[widths.length - 1]!)
    : undefined;
  const outDir = await mkdtemp(path.join(ctx.scratchDir, 'image-'));
  const total = widths.length * formats.length;
  let done = 0;
  const onOutput = (derivative: Derivative): void => {
    done += 1;
    ctx.onProgress(done / total);
    ctx.log.debug(
      { file: path.basename(derivative.file), bytes: derivative.bytes },
      'image: derivative written',
    );
  };

  try {
    const common = {
      file: inputFile,
      widths,
      quality: resolved.quality,
      watermark,
      outDir,
      signal: ctx.signal,
      onOutput,
    };
    const stillFormats = animateWebp ? formats.filter((format) => format !== 'webp') : formats;
    const outputs: Derivative[] = [];
    if (stillFormats.length > 0)
      outputs.push(
        ...(await makeStillDerivatives({
          ...common,
          formats: stillFormats,
          pixelLimit: resolved.limits.maxPixels,
        })),
      );
    if (animateWebp)
      outputs.push(
        ...(await makeAnimatedWebp({ ...common, pixelLimit: resolved.limits.maxTotalPixels })),
      );
    outputs.sort(
      (a, b) => a.width - b.width || formats.indexOf(a.format) - formats.indexOf(b.format),
    );
    return {
      outputs,
      source: {
        format: source.format,
        width: source.width,
        height: source.height,
        orientation: source.orientation,
        frames: source.frames,
      },
    };
  } catch (error) {
    await rm(outDir, { recursive: true, force: true });
    throw error;
  }
}
