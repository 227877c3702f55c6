import sharp, { type OutputInfo, type OverlayOptions, type Sharp } from 'sharp';
import { MediaflowError } from '../errors.js';
import { fontFamily } from './font-family.js';
import { PIPELINE_TIMEOUT_SECONDS, toImageError } from './image-errors.js';
import { decodeOptions, inspectImage } from './inspect.js';
import type { Anchor, ImageWatermark, TextWatermark, Watermark } from './watermark-params.js';

/** A watermark decoded once to straight RGBA pixels, at the largest size any output needs. */
export interface PreparedWatermark {
  pixels: Buffer;
  width: number;
  height: number;
  spec: Watermark;
}

/** Where a watermark goes on one output, in output pixels. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A resized, opacity-applied watermark ready for `composite` at its box. */
export interface Overlay extends Box {
  pixels: Buffer;
}

// A logo file is a small image: anything larger is almost certainly a mistake or an attack.
const LOGO_LIMITS = { maxPixels: 25_000_000, maxFrames: 1000, maxTotalPixels: 25_000_000 };
// The text canvas stays under this width whatever the text length, to bound render memory.
const MAX_TEXT_CANVAS = 8000;

/** Escapes text for an XML text node or attribute value. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

/**
 * The SVG document for a text watermark. Built here, never taken from users: the text and colour
 * are escaped, and the document references no files, fonts or URLs, so librsvg only lays out text.
 * The canvas is generous and the result is trimmed to the drawn pixels afterwards.
 */
export function textWatermarkSvg(text: string, color: string, fontSize: number): string {
  const chars = [...text].length;
  const width = Math.ceil(chars * fontSize * 1.1 + fontSize);
  const height = Math.ceil(fontSize * 2);
  const stroke = Math.max(1, Math.round(fontSize / 16));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<text x="${fontSize / 2}" y="${Math.round(fontSize * 1.4)}" ` +
    `font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" ` +
    `font-size="${fontSize}" fill="${escapeXml(color)}" ` +
    `stroke="rgba(0,0,0,0.45)" stroke-width="${stroke}" paint-order="stroke" ` +
    `xml:space="preserve">${escapeXml(text)}</text></svg>`
  );
}

/**
 * Where a watermark of aspect `aspect` (width/height) sits on a `outWidth` x `outHeight` output:
 * `scale` of the output width wide (or, for text with `fontSize`, that fraction of the output
 * height tall), shrunk to fit inside the margins, at the anchor. Returns undefined when it would
 * be smaller than a pixel.
 */
export function watermarkBox(
  spec: { position: Anchor; margin: number; scale: number; fontSize?: number | undefined },
  outWidth: number,
  outHeight: number,
  aspect: number,
): Box | undefined {
  const margin = Math.round(spec.margin * outWidth);
  let width =
    spec.fontSize !== undefined ? spec.fontSize * outHeight * aspect : spec.scale * outWidth;
  let height = width / aspect;
  const fit = Math.min(1, (outWidth - 2 * margin) / width, (outHeight - 2 * margin) / height);
  width = Math.round(width * fit);
  height = Math.round(height * fit);
  if (width < 1 || height < 1) return undefined;
  const [vertical, horizontal] = anchorParts(spec.position);
  const left =
    horizontal === 'left'
      ? margin
      : horizontal === 'right'
        ? outWidth - margin - width
        : Math.round((outWidth - width) / 2);
  const top =
    vertical === 'top'
      ? margin
      : vertical === 'bottom'
        ? outHeight - margin - height
        : Math.round((outHeight - height) / 2);
  return { left, top, width, height };
}

function anchorParts(anchor: Anchor): ['top' | 'middle' | 'bottom', 'left' | 'center' | 'right'] {
  const vertical = anchor.startsWith('top')
    ? 'top'
    : anchor.startsWith('bottom')
      ? 'bottom'
      : 'middle';
  const horizontal = anchor.endsWith('left')
    ? 'left'
    : anchor.endsWith('right')
      ? 'right'
      : 'center';
  return [vertical, horizontal];
}

/**
 * Decodes (image) or renders (text) the watermark once, big enough for the widest output, so
 * each output only downsizes it.
 */
export async function prepareWatermark(
  spec: Watermark,
  maxOutputWidth: number,
): Promise<PreparedWatermark> {
  // Text sized by height has a width known only once rendered: render it for the whole width.
  const sizedByHeight = spec.type === 'text' && spec.fontSize !== undefined;
  const targetWidth = Math.max(1, Math.ceil((sizedByHeight ? 1 : spec.scale) * maxOutputWidth));
  return spec.type === 'image' ? prepareImage(spec, targetWidth) : prepareText(spec, targetWidth);
}

async function prepareImage(spec: ImageWatermark, targetWidth: number): Promise<PreparedWatermark> {
  // The logo may come from storage: it gets the same content checks as a source.
  const info = await inspectImage(spec.file, LOGO_LIMITS, false);
  try {
    const { data, info: out } = await sharp(spec.file, decodeOptions(LOGO_LIMITS.maxPixels))
      .timeout({ seconds: PIPELINE_TIMEOUT_SECONDS })
      .autoOrient()
      .resize({ width: Math.min(targetWidth, info.width), withoutEnlargement: true })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { pixels: data, width: out.width, height: out.height, spec };
  } catch (error) {
    throw toImageError(error, true);
  }
}

async function prepareText(spec: TextWatermark, targetWidth: number): Promise<PreparedWatermark> {
  const chars = [...spec.text].length;
  // Aim the font size at the target width (average glyph ~0.6 em), with headroom for wide glyphs.
  const wanted = Math.ceil((targetWidth / (0.6 * chars)) * 1.25);
  const fontSize = Math.max(
    12,
    Math.min(400, wanted, Math.floor(MAX_TEXT_CANVAS / (chars * 1.1 + 1))),
  );
  let rendered: { data: Buffer; info: OutputInfo };
  try {
    rendered = await (await textImage(spec, fontSize))
      .timeout({ seconds: PIPELINE_TIMEOUT_SECONDS })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw toImageError(error, false);
  }
  const box = opaqueBounds(rendered.data, rendered.info.width, rendered.info.height);
  if (!box)
    throw new MediaflowError(
      'INTERNAL',
      'The text watermark rendered no pixels: no usable font is installed.',
    );
  const { data, info } = await sharp(rendered.data, {
    raw: { width: rendered.info.width, height: rendered.info.height, channels: 4 },
  })
    .extract(box)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { pixels: data, width: info.width, height: info.height, spec };
}

/**
 * The text as an image: with a font file, Pango renders it with exactly that font (the text is
 * escaped, since Pango reads markup); without one, librsvg lays out an SVG with the host's fonts.
 */
async function textImage(spec: TextWatermark, fontSize: number): Promise<Sharp> {
  if (!spec.fontFile)
    return sharp(Buffer.from(textWatermarkSvg(spec.text, spec.color, fontSize)), { density: 72 });
  const family = await fontFamily(spec.fontFile);
  return sharp({
    text: {
      text: `<span foreground="${escapeXml(spec.color)}">${escapeXml(spec.text)}</span>`,
      fontfile: spec.fontFile,
      // Pango picks fonts by family; a size in points at 72 dpi is pixels.
      font: `${family.replace(/[^\p{L}\p{N} -]+/gu, ' ')} ${fontSize}`,
      dpi: 72,
      rgba: true,
    },
  });
}

/** The smallest box holding every pixel with alpha > 0, or undefined if there is none. */
function opaqueBounds(
  rgba: Buffer,
  width: number,
  height: number,
): { left: number; top: number; width: number; height: number } | undefined {
  let minX = width,
    minY = height,
    maxX = -1,
    maxY = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width * 4;
    for (let x = 0; x < width; x++) {
      if (rgba[row + x * 4 + 3]! > 0) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX < 0) return undefined;
  return { left: minX, top: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}

/**
 * The watermark for one output size: resized to its box and with the opacity multiplied into its
 * alpha. Undefined when there is nothing to draw (opacity 0, or smaller than a pixel).
 */
export async function watermarkOverlay(
  prepared: PreparedWatermark,
  outWidth: number,
  outHeight: number,
): Promise<Overlay | undefined> {
  if (prepared.spec.opacity === 0) return undefined;
  const box = watermarkBox(prepared.spec, outWidth, outHeight, prepared.width / prepared.height);
  if (!box) return undefined;
  const { data } = await sharp(prepared.pixels, {
    raw: { width: prepared.width, height: prepared.height, channels: 4 },
  })
    .resize(box.width, box.height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (prepared.spec.opacity < 1) {
    for (let i = 3; i < data.length; i += 4) data[i] = Math.round(data[i]! * prepared.spec.opacity);
  }
  return { ...box, pixels: data };
}

/** The composite input for an overlay. */
export function overlayInput(overlay: Overlay): OverlayOptions {
  return {
    input: overlay.pixels,
    raw: { width: overlay.width, height: overlay.height, channels: 4 },
    left: overlay.left,
    top: overlay.top,
  };
}
