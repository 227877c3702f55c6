import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageWatermark } from '../presets/schema.js';
import type { TaskIO } from './handler.js';

const ASSETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../samples/assets');
const MAX_LOGO_BYTES = 10 * 1024 * 1024;

/**
 * Resolves a preset's watermark logo to a local file: a shipped asset by its (validated) name,
 * or an object fetched from storage into the task's scratch folder. The media function then
 * vets the logo like any other image.
 */
export async function fetchWatermark(
  source: ImageWatermark['source'],
  io: TaskIO,
): Promise<string> {
  if ('sample' in source) return path.join(ASSETS, source.sample);
  const file = path.join(io.ctx.scratchDir, 'watermark');
  await io.store.download(source.bucket, source.key, file, {
    maxBytes: MAX_LOGO_BYTES,
    signal: io.ctx.signal,
  });
  return file;
}
