import path from 'node:path';
import { z } from 'zod';
import { MediaflowError } from '../../functions/errors.js';
import { processImage } from '../../functions/image/process-image.js';
import type { Watermark } from '../../functions/image/watermark-params.js';
import { defineHandler } from './handler.js';
import { fetchWatermark } from './watermark-source.js';

/** Makes every derivative of an image preset from one decode of the source. */
export const imageHandler = defineHandler({
  kind: 'image',
  params: z.object({}),
  async run(_params, io) {
    const preset = io.job.preset;
    if (preset.kind !== 'image')
      throw new MediaflowError('INTERNAL', `image task in a ${preset.kind} job`);
    const source = await io.fetchSource();
    let watermark: Watermark | undefined;
    if (preset.watermark?.type === 'image') {
      const { source: logo, ...placement } = preset.watermark;
      watermark = { ...placement, file: await fetchWatermark(logo, io) };
    } else watermark = preset.watermark;

    const { limits } = io.config;
    const result = await processImage(
      source,
      {
        widths: preset.widths,
        formats: preset.formats,
        quality: preset.quality,
        ...(watermark ? { watermark } : {}),
        limits: { maxPixels: limits.maxPixels, maxFrames: limits.maxImageFrames },
      },
      io.ctx,
    );
    const outputs = [];
    for (const o of result.outputs) {
      outputs.push(
        await io.putOutput(path.basename(o.file), o.file, {
          role: 'image',
          width: o.width,
          height: o.height,
          format: o.format,
        }),
      );
    }
    return { outputs, source: result.source };
  },
});
