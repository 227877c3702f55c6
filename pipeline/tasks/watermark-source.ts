import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MediaflowError } from '../../functions/errors.js';
import type { Watermark } from '../../functions/image/watermark-params.js';
import type { PresetImageWatermark, PresetTextWatermark } from '../presets/schema.js';
import type { TaskIO } from './handler.js';

const ASSETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../samples/assets');
const MAX_LOGO_BYTES = 10 * 1024 * 1024;
const MAX_FONT_BYTES = 30 * 1024 * 1024;

type Asset = { sample: string } | { bucket: string; key: string };

/**
 * Resolves a preset's watermark logo to a local file: a shipped asset by its (validated) name,
 * or an object fetched from storage into the task's scratch folder. The media function then
 * vets the logo like any other image.
 */
export function fetchWatermark(
  source: PresetImageWatermark['source'],
  io: TaskIO,
): Promise<string> {
  return fetchAsset(source, io, { dir: ASSETS, name: 'watermark', maxBytes: MAX_LOGO_BYTES });
}

/** The font of a text watermark: the shipped DejaVu Sans by default, or an object in storage. */
export function fetchFont(font: PresetTextWatermark['font'], io: TaskIO): Promise<string> {
  return fetchAsset(font, io, {
    dir: path.join(ASSETS, 'fonts'),
    name: 'watermark-font',
    maxBytes: MAX_FONT_BYTES,
  });
}

/** A preset's watermark as the media functions take it: every asset a local file. */
export async function resolveWatermark(
  spec: PresetImageWatermark | PresetTextWatermark,
  io: TaskIO,
): Promise<Watermark> {
  if (spec.type === 'image') {
    const { source, ...placement } = spec;
    return { ...placement, file: await fetchWatermark(source, io) };
  }
  const { font, ...text } = spec;
  return { ...text, fontFile: await fetchFont(font, io) };
}

async function fetchAsset(
  asset: Asset,
  io: TaskIO,
  options: { dir: string; name: string; maxBytes: number },
): Promise<string> {
  if ('sample' in asset) return path.join(options.dir, asset.sample);
  const file = path.join(io.ctx.scratchDir, options.name);
  try {
    await io.store.download(asset.bucket, asset.key, file, {
      maxBytes: options.maxBytes,
      signal: io.ctx.signal,
    });
  } catch (error) {
    // The preset names an object that is not there: the job cannot succeed until someone uploads
    // it, so say which object, without retries.
    if (error instanceof MediaflowError && error.code === 'SOURCE_NOT_FOUND')
      throw new MediaflowError(
        'ASSET_NOT_FOUND',
        `The preset "${io.job.preset.name}" needs s3://${asset.bucket}/${asset.key} ` +
          `(${options.name === 'watermark' ? 'its watermark logo' : 'its watermark font'}), ` +
          'which does not exist',
        { cause: error },
      );
    throw error;
  }
  return file;
}
