import os from 'node:os';
import { z } from 'zod';
import type { WatermarkSpec } from '../../functions/ffmpeg/args/watermark.js';
import type { Rendition } from '../../functions/video/ladder.js';
import type { MediaInfo } from '../../functions/video/media-info.js';
import { transcodeSegment } from '../../functions/video/transcode.js';
import type { SegmentRef } from '../plan/video-results.js';
import { mapConcurrently } from './concurrently.js';
import { defineHandler, type TaskIO } from './handler.js';
import { mediaTools } from './media-tools.js';
import { videoPreset } from './video-preset.js';
import { fetchWatermark } from './watermark-source.js';

const object = <T>() => z.custom<T>((v) => typeof v === 'object' && v !== null);

/** Encodes one segment into every rendition of the ladder (one decode, one ffmpeg process). */
export const transcodeHandler = defineHandler({
  kind: 'transcode',
  params: z.object({
    segment: object<SegmentRef>(),
    media: object<Omit<MediaInfo, 'keyframeTimes'>>(),
    renditions: z.array(object<Rendition>()).min(1),
  }),
  async run({ segment, media, renditions }, io) {
    const preset = videoPreset(io);
    const tools = await mediaTools(io.config);
    const file = segment.name ? await io.fetchScratch(segment.name) : await io.fetchSource();
    const watermark = await videoWatermark(io);
    const encoded = await transcodeSegment(
      {
        index: segment.index,
        file,
        format: segment.name ? segment.format : media.demuxer,
        start: segment.start,
        duration: segment.duration,
        frameCount: segment.frameCount,
        ...(segment.timing ? { timing: segment.timing } : {}),
      },
      {
        tools,
        renditions,
        rotation: media.video?.rotation ?? 0,
        fps: media.video?.fps ?? 30,
        hlsSegmentSeconds: preset.hlsSegmentSeconds,
        encoder: {
          preset: preset.x264Preset,
          crf: preset.crf,
          threads: encoderThreads(io.config.worker.concurrency, renditions.length),
        },
        ...(watermark ? { watermark } : {}),
      },
      io.ctx,
    );
    const names = await mapConcurrently(encoded.outputs, async (o) => {
      const name = `enc-${o.rendition}-${String(segment.index).padStart(5, '0')}.mp4`;
      await io.putScratch(name, o.file);
      return [o.rendition, name] as const;
    });
    return { files: Object.fromEntries(names) };
  },
});

async function videoWatermark(io: TaskIO): Promise<WatermarkSpec | undefined> {
  const spec = videoPreset(io).watermark;
  if (!spec) return undefined;
  return {
    imageFile: await fetchWatermark(spec.source, io),
    position: spec.position,
    marginFraction: spec.margin,
    opacity: spec.opacity,
    scale: spec.scale,
  };
}

/**
 * A task's share of the machine is cores / concurrent tasks; its encoders split that share, one
 * thread at the least. Tasks run side by side, so x264's own frame threads would only
 * oversubscribe.
 */
export function encoderThreads(
  concurrency: number,
  renditions: number,
  cores = os.availableParallelism(),
): number {
  return Math.max(1, Math.floor(cores / concurrency / renditions));
}
