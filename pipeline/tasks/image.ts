import path from 'node:path';
import { MediaflowError } from '../../functions/errors.js';
import { processImage } from '../../functions/image/process-image.js';
import { defineTask } from './handler.js';
import { resolveWatermark } from './watermark-source.js';

/** Makes every derivative of an image preset from one decode of the source. */
export const imageHandler = defineTask({
  kind: 'image',
  async run(_params, io) {
    const preset = io.job.preset;
    if (preset.kind !== 'image')
      throw new MediaflowError('INTERNAL', `image task in a ${preset.kind} job`);
    const source = await io.fetchSource();
    const watermark = preset.watermark && (await resolveWatermark(preset.watermark, io));

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
